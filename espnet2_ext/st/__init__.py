"""Speech translation models over discrete units."""
