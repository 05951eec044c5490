"""``{% load orgs_admin %}``: whether to show the administration menu (账号与单位管理)."""

from django import template

from rectify.orgs.scope import manages_credentials

register = template.Library()


@register.filter
def administers_accounts(user) -> bool:
    return bool(manages_credentials(user))
