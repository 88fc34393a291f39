"""Customer data: export everything held about one customer, delete it everywhere Katha
keeps it, with an audit entry."""
