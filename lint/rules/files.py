"""Category 16: files written at request time on the pod's own disk."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._rule import Facts, Rule, examples
from sessionkit.lint._types import Finding
from sessionkit.lint.rules._util import dict_entries, literal_or_default, settings_in, string_value, walk

WRITE_MODE = re.compile(r"[wax+]")
OPENERS = frozenset({"open", "builtins.open", "io.open", "aiofiles.open", "codecs.open", "os.open"})
PATH_WRITERS = frozenset(
    {
        "write_text",
        "write_bytes",
        "save",
        "to_csv",
        "to_excel",
        "to_json",
        "to_parquet",
        "savefig",
        "save_as",
        "extractall",
    }
)
SHUTIL_WRITERS = frozenset({"shutil.copy", "shutil.copyfile", "shutil.copy2", "shutil.move"})
TEMP_HINT = re.compile(r"(?i)tmp|temp")
PATH_NAMES = re.compile(r"(?i)path|dest|file|target|out|dir|folder")
UPLOAD_KEYS = frozenset({"UPLOAD_FOLDER", "UPLOAD_DIR", "UPLOADED_FILES_DEST", "UPLOADS_DEFAULT_DEST"})
OBJECT_STORAGE = (
    "boto3.",
    "botocore",
    "minio.",
    "google.cloud.storage",
    "azure.storage",
    "s3fs",
    "storages.",
)
#: A write under the upload folder is an upload, whoever calls the function.
UPLOAD_ROOTS = re.compile(r"MEDIA_ROOT|UPLOAD_(FOLDER|DIR|PATH|ROOT)|UPLOADS?_DEST")
LOCAL_STORAGE = frozenset(
    {
        "django.core.files.storage.FileSystemStorage",
        "django.core.files.storage.filesystem.FileSystemStorage",
        "",
    }
)


class RequestTimeFileWrite(Rule):
    """A request handler writes a file (an upload, an export) to a local path.

    The follow-up request that reads or serves the file usually lands on another replica, where
    the file does not exist; the file is also lost when the pod is replaced.
    """

    code = "SK116"
    name = "request-time-file-write"
    category = "local-files"
    severity = "error"
    remedy = "refactor"
    prefilter = (
        r"open\(.*['\"][rbt]*[wax+]|mode\s*=|write_text\(|write_bytes\(|to_csv\(|to_excel\("
        r"|savefig\(|shutil\.(copy|move)|extractall\(|to_json\(|to_parquet\("
        r"|\.save\(\s*(os\.path|Path|f?['\"]|[\w.]*(path|dest|file|target|out|name|dir|folder))",
    )
    message = (
        "the file is written to this replica's local disk, so later requests served by other "
        "replicas cannot find it and it is lost when the pod is replaced; store it in shared "
        "object storage (S3/GCS/MinIO, django-storages) or a shared volume"
    )
    fix_hint = "Write to object storage (S3/GCS) or a ReadWriteMany volume, not a local path."
    valid = examples(
        """
            from flask import Flask
            app = Flask(__name__)
            @app.get('/r')
            def read():
                with open('data.txt') as f:
                    return f.read()
        """,
        """
            import tempfile
            from flask import Flask, request
            app = Flask(__name__)
            @app.post('/convert')
            def convert():
                with tempfile.NamedTemporaryFile('wb') as tmp:
                    tmp.write(request.data)
                return ''
        """,
        """
            with open('boot.log', 'a') as f:
                f.write('started')
        """,
        """
            def view(request):
                obj = Thing()
                obj.save()
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            @app.post('/u')
            def upload():
                storage.upload_fileobj(request.files['f'], 'bucket', 'key')
                return ''
        """,
        """
            import io
            def export(request):
                buf = io.BytesIO()
                df.to_csv(buf)
                return buf.getvalue()
        """,
    )
    invalid = examples(
        """
            import os
            from flask import Flask, request
            app = Flask(__name__)
            @app.post('/upload')
            def upload():
                f = request.files['file']
                f.save(os.path.join(app.config['UPLOAD_FOLDER'], f.filename))
                return 'ok'
        """,
        """
            from fastapi import FastAPI, UploadFile
            app = FastAPI()
            @app.post('/up')
            async def up(file: UploadFile):
                with open(f'uploads/{file.filename}', 'wb') as out:
                    out.write(await file.read())
        """,
        """
            from pathlib import Path
            def export(request):
                Path('exports/report.csv').write_text(build())
        """,
        """
            from django.views import View
            class Export(View):
                def post(self, request):
                    df.to_csv('/srv/exports/out.csv')
        """,
        """
            import shutil
            from flask import Flask, request
            app = Flask(__name__)
            @app.post('/copy')
            def copy():
                shutil.copy(request.form['src'], 'media/copy.bin')
                return ''
        """,
        """
            def upload_avatar(request):
                with open('media/avatars/%s.png' % request.user.pk, mode='wb+') as f:
                    f.write(request.FILES['a'].read())
        """,
    )

    def visit_Call(self, node: cst.Call) -> None:
        deferred = None if self.ctx.is_request_time(node) else self.ctx.deferred(node)
        if deferred is None and not self.ctx.is_request_time(node):
            return
        subject = self._write(node)
        if subject and not self._temporary(node):
            if deferred is not None and UPLOAD_ROOTS.search(self.ctx.module.code_for_node(node)):
                deferred = None
            self.report_request_time(node, subject, deferred)

    def _write(self, node: cst.Call) -> str | None:
        func = node.func
        if self.ctx.calls(node, OPENERS) or (isinstance(func, cst.Name) and func.value == "open"):
            mode = next((a.value for a in node.args[1:2] if a.keyword is None), None)
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value == "mode":
                    mode = arg.value
            text = string_value(mode)
            if text is not None and WRITE_MODE.search(text) and node.args:
                return "file opened for writing at request time"
            return None
        if self.ctx.calls(node, SHUTIL_WRITERS):
            return "file copied to a local path at request time"
        if isinstance(func, cst.Attribute) and func.attr.value in PATH_WRITERS:
            if func.attr.value in {"write_text", "write_bytes"}:
                return "file written at request time"
            first = node.args[0] if node.args else None
            if first is not None and first.keyword is None and self._pathlike(first.value):
                return f"`.{func.attr.value}()` to a local path at request time"
        return None

    def _pathlike(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.SimpleString | cst.FormattedString | cst.ConcatenatedString):
            return True
        if isinstance(node, cst.BinaryOperation):
            return True
        if isinstance(node, cst.Call):
            return any(n.startswith(("os.path.join", "pathlib.")) for n in self.ctx.qnames(node.func))
        if isinstance(node, cst.Name):
            return bool(PATH_NAMES.search(node.value))
        if isinstance(node, cst.Attribute):  # ``f.save(f.filename)``, ``save(form.dest)``
            return bool(PATH_NAMES.search(node.attr.value))
        return False

    def _temporary(self, node: cst.Call) -> bool:
        uses_tempfile = any(q.startswith("tempfile") for q in self.ctx.import_table.values())
        for sub in walk(node) if uses_tempfile or self.ctx.star_import else ():
            if isinstance(sub, cst.Name | cst.Attribute) and any(
                n.startswith("tempfile.") for n in self.ctx.qnames(sub)
            ):
                return True
        return (
            bool(TEMP_HINT.search(self.ctx.module.code_for_node(node.args[0].value))) if node.args else False
        )


class LocalMediaRoot(Rule):
    """Django ``MEDIA_ROOT`` or a Flask/Quart ``UPLOAD_FOLDER`` with no shared storage configured
    anywhere in the project.

    Uploaded files land on the pod that handled the upload; the other replicas answer 404.
    Resolved across files: a ``STORAGES``/``DEFAULT_FILE_STORAGE`` in any settings module (also
    set conditionally, ``STORAGES["default"]["BACKEND"] = ...``) or a module that talks to object
    storage (boto3, MinIO, Google Cloud Storage, Azure Blob) counts as shared storage.
    """

    code = "SK216"
    name = "local-media-root"
    category = "local-files"
    severity = "warning"
    remedy = "refactor"
    prefilter = (
        r"MEDIA_ROOT|STORAGES|DEFAULT_FILE_STORAGE|UPLOAD_FOLDER|UPLOAD_DIR|UPLOADED_\w+_DEST"
        r"|boto3|minio|google\.cloud|azure\.storage",
    )
    message = (
        "uploads are stored under MEDIA_ROOT on the pod that received them, so other replicas "
        "cannot serve them and they vanish with the pod; configure shared storage "
        '(`STORAGES = {"default": {"BACKEND": "storages.backends.s3.S3Storage"}}`)'
    )
    fix_hint = "Configure django-storages (S3/GCS/Azure) as the default storage backend."
    valid = examples(
        """
            # file: settings.py
            MEDIA_ROOT = BASE_DIR / "media"
            STORAGES = {"default": {"BACKEND": "storages.backends.s3.S3Storage"}}
        """,
        """
            # file: settings.py
            MEDIA_ROOT = "/m"
            DEFAULT_FILE_STORAGE = "storages.backends.gcloud.GoogleCloudStorage"
        """,
        """
            # file: settings.py
            MEDIA_URL = "/media/"
        """,
        """
            def f():
                MEDIA_ROOT = "/x"
                return MEDIA_ROOT
        """,
        """
            # file: settings.py
            MEDIA_ROOT = ""
        """,
    )
    invalid = examples(
        """
            # file: settings.py
            MEDIA_ROOT = BASE_DIR / "media"
        """,
        """
            # file: settings.py
            import os
            MEDIA_ROOT = os.path.join(BASE_DIR, "media")
        """,
        """
            # file: settings.py
            MEDIA_ROOT = "/srv/media"
            STORAGES = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
        """,
        """
            # file: config/settings/base.py
            MEDIA_ROOT = str(APPS_DIR / "media")
        """,
        """
            # file: settings.py
            MEDIA_ROOT: str = "/data/media"
        """,
    )

    @classmethod
    def project(cls, facts: Facts) -> list[Finding]:
        """``MEDIA_ROOT`` settings, unless some module of the project configures shared storage."""
        if any(f.get("shared_storage") for f in facts.values()):
            return []
        return [
            cls.finding_at(
                path,
                own["media_root"],
                f"`{own['media_root'].get('key', 'MEDIA_ROOT')}` on local disk, no shared storage backend",
            )
            for path, own in sorted(facts.items())
            if "media_root" in own
        ]

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self._storage_module(self.ctx.module.code_for_node(alias.name))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.module is not None and not node.relative:
            self._storage_module(self.ctx.module.code_for_node(node.module))

    def _storage_module(self, module: str) -> None:
        if module.startswith(OBJECT_STORAGE) or module in {"boto3", "minio"}:
            self.ctx.facts["shared_storage"] = True

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check(node)

    def _check(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.Assign) and isinstance(node.targets[0].target, cst.Subscript):
            root: cst.BaseExpression = node.targets[0].target
            while isinstance(root, cst.Subscript):
                root = root.value
            backend = string_value(node.value)
            target = self.ctx.module.code_for_node(node.targets[0].target)
            if (
                isinstance(root, cst.Name)
                and root.value == "STORAGES"
                and backend not in LOCAL_STORAGE
                and backend
                and "staticfiles" not in target
            ):
                self.ctx.facts["shared_storage"] = True
        for key, value, where in settings_in(self.ctx, node):
            plain_name = isinstance(where, cst.Name) and not self.ctx.is_settings
            if key in UPLOAD_KEYS and not plain_name and string_value(value) != "":
                self.ctx.facts["media_root"] = {**self.position(node), "key": key}
            if not isinstance(where, cst.Name):
                continue
            if key == "MEDIA_ROOT" and string_value(value) != "":
                self.ctx.facts["media_root"] = self.position(where)
            elif key == "DEFAULT_FILE_STORAGE":
                backend = literal_or_default(self.ctx, value)[0]
                if backend not in LOCAL_STORAGE:
                    self.ctx.facts["shared_storage"] = True
            elif key == "STORAGES":
                for alias, config, _ in dict_entries(value):
                    backend = next(
                        (
                            literal_or_default(self.ctx, v)[0]
                            for k, v, _ in dict_entries(config)
                            if k == "BACKEND"
                        ),
                        "",
                    )
                    if alias == "default" and (backend or "") not in LOCAL_STORAGE:
                        self.ctx.facts["shared_storage"] = True
