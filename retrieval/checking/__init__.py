"""Claim checking: the candidate passages for a claim, their stance and numeric checks, and the verdict rules.

``retrieval.checking.check`` finds and judges passages for claims (``check_claims``); ``retrieval.checking.verdicts``
turns a claim's links into its support and numeric status. Storage is the caller's: ``api.evidence`` saves the links
for the party a check was made for. Nothing heavy is imported here.
"""
