"""E-mail to leads: reading mailboxes, parsing and classifying messages, web-form fields."""
