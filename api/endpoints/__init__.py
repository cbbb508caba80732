"""The API's endpoints, one module per resource; routes in api/urls.py."""
