"""``clearance classify``: gogen's offline run over DOJ files (settings, the one- and two-pass pipelines, result
files, progress bar). It moves rows between the reader, the rules and gogen's files; it decides nothing itself."""
