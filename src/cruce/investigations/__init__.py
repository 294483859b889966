"""Investigation cases (issue #11): the analysts' shared workspace — see ``cruce.investigations.access``."""
