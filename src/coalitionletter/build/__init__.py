"""Building the letters: content, signatory lists, output files, manifest and PDF workers."""
