"""Unit tests of the host tool (run by `make test` through unittest discovery).
They may import any module of the package; no module may import them."""
