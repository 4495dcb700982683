"""Routing and ticket pre-fill from a caller's transcript.

normalise.py (pure steps over `text.Traced`), entities.py (spans into the transcript),
config.py (routing.yaml, file:line errors), classifier.py (char n-gram linear models),
router.py (rules + model -> `decision.Decision`), service.py (building a Router),
evaluate.py / cli.py (`hotline route ...`), callers.py (caller numbers), live.py (reload).
"""
