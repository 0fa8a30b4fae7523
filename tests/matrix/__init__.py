"""Helpers of the access matrix (tests/test_access_matrix.py): the two-team world it requests."""
