"""Websocket recordings -> bronze: line readers (`lines`), an exact-decimal L2 book (`book`), one rebuilder per venue
(`binance` U/u sync, `coinbase` sequence, `kraken` CRC32), batched writes (`batches`) and the `importer` behind
`schemahub import-recording`."""
