"""movierec: a movie recommender served by Cloud Run functions and A/B-tested on live traffic."""

__version__ = "0.1.0"
