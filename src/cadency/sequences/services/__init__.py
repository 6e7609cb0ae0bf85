"""Business rules of sequences and enrollments, as plain typed functions."""
