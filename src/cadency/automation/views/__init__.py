"""The automation pages: workflows (list, builder, detail)."""
