{{ apply_mapping('raw_book_gaps') }}
