"""Small shared utilities (command-line helpers)."""
