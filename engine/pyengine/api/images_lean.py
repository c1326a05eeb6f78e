"""Lean message classes of pyengine/v1/images.proto: written by tools/gen-proto, do not edit.

Encoded and decoded by pyengine.api.lean, without protobuf; the same fields as
images_pb2 (tests/unit/engine/test_engine_lean_proto.py).
"""

from __future__ import annotations

from pyengine.api import lean as _lean
from . import common_lean


class PullRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.PullRequest"
    __slots__ = ('reference', 'platform', 'auth')
    reference: str
    platform: common_lean.Platform
    auth: common_lean.RegistryAuth


class PushRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.PushRequest"
    __slots__ = ('reference', 'auth')
    reference: str
    auth: common_lean.RegistryAuth


class ListImagesRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.ListImagesRequest"
    __slots__ = ('all', 'reference_filter', 'dangling')
    all: bool
    reference_filter: str
    dangling: bool


class ImageSummary(_lean.Message):
    FULL_NAME = "pyengine.v1.ImageSummary"
    __slots__ = ('id', 'repository', 'tag', 'digest', 'created', 'size', 'repo_tags', 'repo_digests', 'platform')
    id: str
    repository: str
    tag: str
    digest: str
    created: int
    size: int
    repo_tags: list[str]
    repo_digests: list[str]
    platform: common_lean.Platform


class ListImagesResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.ListImagesResponse"
    __slots__ = ('images',)
    images: list[ImageSummary]


class InspectImageRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.InspectImageRequest"
    __slots__ = ('reference',)
    reference: str


class InspectImageResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.InspectImageResponse"
    __slots__ = ('json',)
    json: str


class ImageHistoryRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.ImageHistoryRequest"
    __slots__ = ('reference',)
    reference: str


class HistoryEntry(_lean.Message):
    FULL_NAME = "pyengine.v1.HistoryEntry"
    __slots__ = ('id', 'created', 'created_by', 'size', 'comment', 'tags', 'empty_layer')
    id: str
    created: int
    created_by: str
    size: int
    comment: str
    tags: list[str]
    empty_layer: bool


class ImageHistoryResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.ImageHistoryResponse"
    __slots__ = ('entries',)
    entries: list[HistoryEntry]


class TagImageRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.TagImageRequest"
    __slots__ = ('source', 'target')
    source: str
    target: str


class TagImageResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.TagImageResponse"
    __slots__ = ('name',)
    name: str


class RemoveImageRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.RemoveImageRequest"
    __slots__ = ('reference', 'force', 'no_prune')
    reference: str
    force: bool
    no_prune: bool


class RemoveItem(_lean.Message):
    FULL_NAME = "pyengine.v1.RemoveItem"
    __slots__ = ('untagged', 'deleted')
    untagged: str
    deleted: str


class RemoveImageResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.RemoveImageResponse"
    __slots__ = ('items',)
    items: list[RemoveItem]


class SaveImagesRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.SaveImagesRequest"
    __slots__ = ('references', 'format')
    references: list[str]
    format: str


class LoadImagesRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.LoadImagesRequest"
    __slots__ = ('data', 'options')
    data: bytes
    options: LoadOptions
    _oneofs = {'part': ('data', 'options')}


class LoadOptions(_lean.Message):
    FULL_NAME = "pyengine.v1.LoadOptions"
    __slots__ = ('quiet',)
    quiet: bool


class LoadImagesResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.LoadImagesResponse"
    __slots__ = ('loaded', 'image_ids')
    loaded: list[str]
    image_ids: list[str]


class ImportImageRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.ImportImageRequest"
    __slots__ = ('header', 'data')
    header: ImportHeader
    data: bytes
    _oneofs = {'part': ('header', 'data')}


class ImportHeader(_lean.Message):
    FULL_NAME = "pyengine.v1.ImportHeader"
    __slots__ = ('reference', 'changes', 'message', 'platform')
    reference: str
    changes: list[str]
    message: str
    platform: common_lean.Platform


class ImportImageResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.ImportImageResponse"
    __slots__ = ('id', 'name')
    id: str
    name: str


class PruneImagesRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.PruneImagesRequest"
    __slots__ = ('all',)
    all: bool


class PruneImagesResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.PruneImagesResponse"
    __slots__ = ('items', 'space_reclaimed')
    items: list[RemoveItem]
    space_reclaimed: int


class SearchImagesRequest(_lean.Message):
    FULL_NAME = "pyengine.v1.SearchImagesRequest"
    __slots__ = ('term', 'registry', 'limit', 'auth')
    term: str
    registry: str
    limit: int
    auth: common_lean.RegistryAuth


class SearchResult(_lean.Message):
    FULL_NAME = "pyengine.v1.SearchResult"
    __slots__ = ('name', 'description', 'star_count', 'is_official')
    name: str
    description: str
    star_count: int
    is_official: bool


class SearchImagesResponse(_lean.Message):
    FULL_NAME = "pyengine.v1.SearchImagesResponse"
    __slots__ = ('results',)
    results: list[SearchResult]


class ImagesService(_lean.Service):
    FULL_NAME = "pyengine.v1.ImagesService"
    METHODS = {
        'Pull': ('unary_stream', PullRequest, common_lean.Progress),
        'Push': ('unary_stream', PushRequest, common_lean.Progress),
        'List': ('unary_unary', ListImagesRequest, ListImagesResponse),
        'Inspect': ('unary_unary', InspectImageRequest, InspectImageResponse),
        'History': ('unary_unary', ImageHistoryRequest, ImageHistoryResponse),
        'Tag': ('unary_unary', TagImageRequest, TagImageResponse),
        'Remove': ('unary_unary', RemoveImageRequest, RemoveImageResponse),
        'Save': ('unary_stream', SaveImagesRequest, common_lean.DataChunk),
        'Load': ('stream_unary', LoadImagesRequest, LoadImagesResponse),
        'Import': ('stream_unary', ImportImageRequest, ImportImageResponse),
        'Prune': ('unary_unary', PruneImagesRequest, PruneImagesResponse),
        'Search': ('unary_unary', SearchImagesRequest, SearchImagesResponse),
    }


PullRequest._fields = (
    (1, 'reference', _lean.STRING, _lean.PLAIN, None),
    (2, 'platform', _lean.MESSAGE, _lean.PLAIN, common_lean.Platform),
    (3, 'auth', _lean.MESSAGE, _lean.PLAIN, common_lean.RegistryAuth),
)
PushRequest._fields = (
    (1, 'reference', _lean.STRING, _lean.PLAIN, None),
    (2, 'auth', _lean.MESSAGE, _lean.PLAIN, common_lean.RegistryAuth),
)
ListImagesRequest._fields = (
    (1, 'all', _lean.BOOL, _lean.PLAIN, None),
    (2, 'reference_filter', _lean.STRING, _lean.PLAIN, None),
    (3, 'dangling', _lean.BOOL, _lean.PRESENCE, None),
)
ImageSummary._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'repository', _lean.STRING, _lean.PLAIN, None),
    (3, 'tag', _lean.STRING, _lean.PLAIN, None),
    (4, 'digest', _lean.STRING, _lean.PLAIN, None),
    (5, 'created', _lean.INT64, _lean.PLAIN, None),
    (6, 'size', _lean.INT64, _lean.PLAIN, None),
    (7, 'repo_tags', _lean.STRING, _lean.REPEATED, None),
    (8, 'repo_digests', _lean.STRING, _lean.REPEATED, None),
    (9, 'platform', _lean.MESSAGE, _lean.PLAIN, common_lean.Platform),
)
ListImagesResponse._fields = (
    (1, 'images', _lean.MESSAGE, _lean.REPEATED, ImageSummary),
)
InspectImageRequest._fields = (
    (1, 'reference', _lean.STRING, _lean.PLAIN, None),
)
InspectImageResponse._fields = (
    (1, 'json', _lean.STRING, _lean.PLAIN, None),
)
ImageHistoryRequest._fields = (
    (1, 'reference', _lean.STRING, _lean.PLAIN, None),
)
HistoryEntry._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'created', _lean.INT64, _lean.PLAIN, None),
    (3, 'created_by', _lean.STRING, _lean.PLAIN, None),
    (4, 'size', _lean.INT64, _lean.PLAIN, None),
    (5, 'comment', _lean.STRING, _lean.PLAIN, None),
    (6, 'tags', _lean.STRING, _lean.REPEATED, None),
    (7, 'empty_layer', _lean.BOOL, _lean.PLAIN, None),
)
ImageHistoryResponse._fields = (
    (1, 'entries', _lean.MESSAGE, _lean.REPEATED, HistoryEntry),
)
TagImageRequest._fields = (
    (1, 'source', _lean.STRING, _lean.PLAIN, None),
    (2, 'target', _lean.STRING, _lean.PLAIN, None),
)
TagImageResponse._fields = (
    (1, 'name', _lean.STRING, _lean.PLAIN, None),
)
RemoveImageRequest._fields = (
    (1, 'reference', _lean.STRING, _lean.PLAIN, None),
    (2, 'force', _lean.BOOL, _lean.PLAIN, None),
    (3, 'no_prune', _lean.BOOL, _lean.PLAIN, None),
)
RemoveItem._fields = (
    (1, 'untagged', _lean.STRING, _lean.PLAIN, None),
    (2, 'deleted', _lean.STRING, _lean.PLAIN, None),
)
RemoveImageResponse._fields = (
    (1, 'items', _lean.MESSAGE, _lean.REPEATED, RemoveItem),
)
SaveImagesRequest._fields = (
    (1, 'references', _lean.STRING, _lean.REPEATED, None),
    (2, 'format', _lean.STRING, _lean.PLAIN, None),
)
LoadImagesRequest._fields = (
    (1, 'data', _lean.BYTES, _lean.PRESENCE, None),
    (2, 'options', _lean.MESSAGE, _lean.PRESENCE, LoadOptions),
)
LoadOptions._fields = (
    (1, 'quiet', _lean.BOOL, _lean.PLAIN, None),
)
LoadImagesResponse._fields = (
    (1, 'loaded', _lean.STRING, _lean.REPEATED, None),
    (2, 'image_ids', _lean.STRING, _lean.REPEATED, None),
)
ImportImageRequest._fields = (
    (1, 'header', _lean.MESSAGE, _lean.PRESENCE, ImportHeader),
    (2, 'data', _lean.BYTES, _lean.PRESENCE, None),
)
ImportHeader._fields = (
    (1, 'reference', _lean.STRING, _lean.PLAIN, None),
    (2, 'changes', _lean.STRING, _lean.REPEATED, None),
    (3, 'message', _lean.STRING, _lean.PLAIN, None),
    (4, 'platform', _lean.MESSAGE, _lean.PLAIN, common_lean.Platform),
)
ImportImageResponse._fields = (
    (1, 'id', _lean.STRING, _lean.PLAIN, None),
    (2, 'name', _lean.STRING, _lean.PLAIN, None),
)
PruneImagesRequest._fields = (
    (1, 'all', _lean.BOOL, _lean.PLAIN, None),
)
PruneImagesResponse._fields = (
    (1, 'items', _lean.MESSAGE, _lean.REPEATED, RemoveItem),
    (2, 'space_reclaimed', _lean.INT64, _lean.PLAIN, None),
)
SearchImagesRequest._fields = (
    (1, 'term', _lean.STRING, _lean.PLAIN, None),
    (2, 'registry', _lean.STRING, _lean.PLAIN, None),
    (3, 'limit', _lean.INT32, _lean.PLAIN, None),
    (4, 'auth', _lean.MESSAGE, _lean.PLAIN, common_lean.RegistryAuth),
)
SearchResult._fields = (
    (1, 'name', _lean.STRING, _lean.PLAIN, None),
    (2, 'description', _lean.STRING, _lean.PLAIN, None),
    (3, 'star_count', _lean.INT32, _lean.PLAIN, None),
    (4, 'is_official', _lean.BOOL, _lean.PLAIN, None),
)
SearchImagesResponse._fields = (
    (1, 'results', _lean.MESSAGE, _lean.REPEATED, SearchResult),
)
