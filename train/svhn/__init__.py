"""SVHN format-1 data: the archive table (archives.py) and the downloader (download.py, `python -m train.svhn`)."""
