"""Knowledge: the owner uploads documents, sees every source with its state, deletes one,
and asks for a re-index."""
