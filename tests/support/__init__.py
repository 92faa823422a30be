"""Helpers the tests share: constants, factories, small worlds, fake servers, HTTP helpers.

Test modules share helpers through this package and never import each other, nor a conftest
(tests/test_layout.py checks it). Fixtures that several test directories use live in the
plugin modules named `*_fixtures.py` here, registered once by `pytest_plugins` in
tests/conftest.py; a test asks for them by name and never imports them.
"""
