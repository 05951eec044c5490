import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rectify.documents.bulletin import bulletin_data
from tests.test_documents import bulletin_world  # noqa

def test_count(bulletin_world):
    world, rnd, *_ = bulletin_world
    with CaptureQueriesContext(connection) as ctx:
        bulletin_data(rnd, world.users["office_admin"])
    print("QUERIES", len(ctx))
