# The export benchmark (bench/export.sh) drives the `flywheel` binary itself;
# it needs no extra program.
