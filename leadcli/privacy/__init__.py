"""Keeping the data safe: backups and restore, doctor, erasure with suppression, subject export."""
