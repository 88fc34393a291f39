"""Answers: the FAQ items the owner keeps, the questions the agent could not answer
grouped by meaning, and a box to try a question before customers ask it."""
