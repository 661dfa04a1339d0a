"""The lead record: fields, add / get / list / edit, filters, and its history."""
