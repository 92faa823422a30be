"""Blended feeds and ad delivery: feed policy, pacing, decisions, tracking and event writing."""
