"""Category 16: files written at request time on the pod's own disk."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._rule import Rule
from sessionkit.lint.rules._util import dict_entries, literal_or_default, settings_in, string_value, walk
from sessionkit.lint.rules.module_state import HANDLER_PREFILTER

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
        r"|\.save\(\s*(os\.path|Path|f?['\"]|\w*(path|dest|file|target|out|name))",
        HANDLER_PREFILTER,
    )
    message = (
        "the file is written to this replica's local disk, so later requests served by other "
        "replicas cannot find it and it is lost when the pod is replaced; store it in shared "
        "object storage (S3/GCS/MinIO, django-storages) or a shared volume"
    )
    fix_hint = "Write to object storage (S3/GCS) or a ReadWriteMany volume, not a local path."
    valid = (
        "from flask import Flask\napp = Flask(__name__)\n@app.get('/r')\ndef read():\n    with open('data.txt') as f:\n        return f.read()\n",
        "import tempfile\nfrom flask import Flask, request\napp = Flask(__name__)\n@app.post('/convert')\ndef convert():\n    with tempfile.NamedTemporaryFile('wb') as tmp:\n        tmp.write(request.data)\n    return ''\n",
        "with open('boot.log', 'a') as f:\n    f.write('started')\n",
        "def view(request):\n    obj = Thing()\n    obj.save()\n",
        "from flask import Flask\napp = Flask(__name__)\n@app.post('/u')\ndef upload():\n    storage.upload_fileobj(request.files['f'], 'bucket', 'key')\n    return ''\n",
        "import io\ndef export(request):\n    buf = io.BytesIO()\n    df.to_csv(buf)\n    return buf.getvalue()\n",
    )
    invalid = (
        "import os\nfrom flask import Flask, request\napp = Flask(__name__)\n@app.post('/upload')\ndef upload():\n    f = request.files['file']\n    f.save(os.path.join(app.config['UPLOAD_FOLDER'], f.filename))\n    return 'ok'\n",
        "from fastapi import FastAPI, UploadFile\napp = FastAPI()\n@app.post('/up')\nasync def up(file: UploadFile):\n    with open(f'uploads/{file.filename}', 'wb') as out:\n        out.write(await file.read())\n",
        "from pathlib import Path\ndef export(request):\n    Path('exports/report.csv').write_text(build())\n",
        "from django.views import View\nclass Export(View):\n    def post(self, request):\n        df.to_csv('/srv/exports/out.csv')\n",
        "import shutil\nfrom flask import Flask, request\napp = Flask(__name__)\n@app.post('/copy')\ndef copy():\n    shutil.copy(request.form['src'], 'media/copy.bin')\n    return ''\n",
        "def upload_avatar(request):\n    with open('media/avatars/%s.png' % request.user.pk, mode='wb+') as f:\n        f.write(request.FILES['a'].read())\n",
    )

    def visit_Call(self, node: cst.Call) -> None:
        if not self.ctx.is_request_time(node):
            return
        subject = self._write(node)
        if subject and not self._temporary(node):
            self.report(node, subject)

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
            return bool(re.search(r"(?i)path|dest|file|target|out", node.value))
        return False

    def _temporary(self, node: cst.Call) -> bool:
        for sub in walk(node):
            if any(n.startswith("tempfile.") for n in self.ctx.qnames(sub)):
                return True
        return (
            bool(TEMP_HINT.search(self.ctx.module.code_for_node(node.args[0].value))) if node.args else False
        )


class LocalMediaRoot(Rule):
    """Django ``MEDIA_ROOT`` with no shared storage backend configured anywhere in the project.

    Uploaded files land on the pod that handled the upload; the other replicas answer 404.
    Resolved across files: a ``STORAGES``/``DEFAULT_FILE_STORAGE`` in any settings module counts.
    """

    code = "SK216"
    name = "local-media-root"
    category = "local-files"
    severity = "warning"
    remedy = "refactor"
    prefilter = (r"MEDIA_ROOT|STORAGES|DEFAULT_FILE_STORAGE",)
    message = (
        "uploads are stored under MEDIA_ROOT on the pod that received them, so other replicas "
        "cannot serve them and they vanish with the pod; configure shared storage "
        '(`STORAGES = {"default": {"BACKEND": "storages.backends.s3.S3Storage"}}`)'
    )
    fix_hint = "Configure django-storages (S3/GCS/Azure) as the default storage backend."
    valid = (
        '# file: settings.py\nMEDIA_ROOT = BASE_DIR / "media"\nSTORAGES = {"default": {"BACKEND": "storages.backends.s3.S3Storage"}}\n',
        '# file: settings.py\nMEDIA_ROOT = "/m"\nDEFAULT_FILE_STORAGE = "storages.backends.gcloud.GoogleCloudStorage"\n',
        '# file: settings.py\nMEDIA_URL = "/media/"\n',
        'def f():\n    MEDIA_ROOT = "/x"\n    return MEDIA_ROOT\n',
        '# file: settings.py\nMEDIA_ROOT = ""\n',
    )
    invalid = (
        '# file: settings.py\nMEDIA_ROOT = BASE_DIR / "media"\n',
        '# file: settings.py\nimport os\nMEDIA_ROOT = os.path.join(BASE_DIR, "media")\n',
        '# file: settings.py\nMEDIA_ROOT = "/srv/media"\nSTORAGES = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}\n',
        '# file: config/settings/base.py\nMEDIA_ROOT = str(APPS_DIR / "media")\n',
        '# file: settings.py\nMEDIA_ROOT: str = "/data/media"\n',
    )

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check(node)

    def _check(self, node: cst.CSTNode) -> None:
        for key, value, where in settings_in(self.ctx, node):
            if not isinstance(where, cst.Name):
                continue
            if key == "MEDIA_ROOT" and string_value(value) != "":
                pos = self.ctx.positions[where]
                self.ctx.facts["media_root"] = {
                    "line": pos.start.line,
                    "column": pos.start.column + 1,
                    "end_line": pos.end.line,
                    "end_column": pos.end.column + 1,
                }
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
