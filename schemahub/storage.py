"""The lake's file system: local disk or S3, one interface (pyarrow.fs), atomic writes.

A file becomes visible only when complete: locally we write a temporary sibling and `os.replace` it; on S3
a single PUT (or a completed multipart upload) is atomic by itself.
"""

from __future__ import annotations

import io
import os
import uuid
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from schemahub import config


@dataclass(frozen=True)
class Lake:
    """A lake root (`/abs/path` or `s3://bucket/prefix`) with helpers to read and write under it."""

    root: str

    @classmethod
    def from_env(cls) -> Lake:
        return cls(config.lake_root())

    @property
    def is_s3(self) -> bool:
        return config.is_s3(self.root)

    @cached_property
    def fs(self) -> pafs.FileSystem:
        if not self.is_s3:
            return pafs.LocalFileSystem()
        s3 = config.s3_settings()
        kwargs: dict[str, object] = {"region": s3["region"]}
        if s3["endpoint_url"]:
            parsed = urlparse(str(s3["endpoint_url"]))
            kwargs["endpoint_override"] = parsed.netloc or parsed.path
            kwargs["scheme"] = parsed.scheme or "https"
        if s3["access_key_id"]:
            kwargs["access_key"] = s3["access_key_id"]
            kwargs["secret_key"] = s3["secret_access_key"]
            if s3["session_token"]:
                kwargs["session_token"] = s3["session_token"]
        return pafs.S3FileSystem(**kwargs)

    def uri(self, *parts: str) -> str:
        """Full URI/path of a location inside the lake (what DuckDB and users see)."""
        return "/".join([self.root, *[p.strip("/") for p in parts if p]])

    def fs_path(self, *parts: str) -> str:
        """Path as the pyarrow file system wants it (no `s3://` scheme)."""
        uri = self.uri(*parts)
        return uri[len("s3://") :] if self.is_s3 else uri

    # -- reading -------------------------------------------------------------------------------
    def exists(self, *parts: str) -> bool:
        return self.fs.get_file_info(self.fs_path(*parts)).type != pafs.FileType.NotFound

    def read_bytes(self, *parts: str) -> bytes:
        with self.fs.open_input_stream(self.fs_path(*parts)) as stream:
            return stream.read()

    def list_files(self, *parts: str, suffix: str = "") -> list[str]:
        """Lake-relative paths of every file below a folder (empty list when the folder is absent)."""
        base = self.fs_path(*parts)
        info = self.fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
        prefix = self.fs_path() + "/"
        out = [i.path[len(prefix) :] for i in info if i.type == pafs.FileType.File and i.path.endswith(suffix)]
        return sorted(p for p in out if "/." not in "/" + p)  # hide in-flight temporary files

    # -- writing (atomic) ----------------------------------------------------------------------
    def write_bytes(self, data: bytes, *parts: str) -> str:
        target = self.fs_path(*parts)
        if self.is_s3:
            with self.fs.open_output_stream(target) as out:
                out.write(data)
            return self.uri(*parts)
        directory = os.path.dirname(target)
        os.makedirs(directory, exist_ok=True)
        tmp = os.path.join(directory, f".{os.path.basename(target)}.tmp-{uuid.uuid4().hex}")
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return target

    def write_parquet(self, table: pa.Table, *parts: str, row_group_size: int = 256_000) -> str:
        """Write a zstd Parquet file atomically; returns its URI."""
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd", row_group_size=row_group_size)
        return self.write_bytes(buf.getvalue(), *parts)

    def delete(self, *parts: str) -> None:
        path = self.fs_path(*parts)
        if self.fs.get_file_info(path).type != pafs.FileType.NotFound:
            self.fs.delete_file(path)
