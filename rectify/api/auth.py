from ninja.security import HttpBearer

from rectify.orgs.services import user_for_token


class TokenAuth(HttpBearer):
    """``Authorization: Bearer rk_…`` — tokens are issued with `rectify token USERNAME`."""

    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is None:
            return None
        request.user = user
        return user
