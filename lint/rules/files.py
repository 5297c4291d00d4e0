"""Category 16: files written at request time on the pod's own disk."""

from __future__ import annotations

import libcst as cst

from sessionkit.lint._rule import Rule, examples
from sessionkit.lint.rules._paths import (
    CACHE_HINT,
    DUMPERS,
    FS_MOVERS,
    OPENERS,
    PATH_BUILDERS,
    PATH_MOVERS,
    PATH_REMOVERS,
    PATH_WRITERS,
    REMOVERS,
    SHUTIL_WRITERS,
    TEMP_HINT,
    UPLOAD_LITERAL,
    UPLOAD_ROOTS,
    WRITE_MODE,
    PathChecks,
)
from sessionkit.lint.rules._util import string_value, walk

#: Calls that create a folder on the local disk.
DIR_MAKERS = frozenset({"os.makedirs", "os.mkdir"})
#: Calls that end a request with an HTTP error (Flask, Quart).
ABORTS = frozenset({"flask.abort", "quart.abort", "werkzeug.exceptions.abort"})
#: Calls a path is given to that write nothing.
BUILTINS = frozenset({"str", "repr", "len", "print", "bool", "format", "isinstance", "Path"})


class RequestTimeFileWrite(PathChecks, Rule):
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
        r"|\.save\(\s*[\w'\"]|\.open\(\s*['\"][rbt]*[wax]|\.renames?\(|\.replace\(\s*[\w.]+\s*\)"
        r"|os\.(remove|unlink)\(|rmtree\(|\.unlink\(|makedirs\(|mkdir\(|joblib",
    )
    message = (
        "the file is written to this replica's local disk, so later requests served by other "
        "replicas cannot find it and it is lost when the pod is replaced; store it in shared "
        "object storage (S3/GCS/MinIO, django-storages) or a shared volume"
    )
    fix_hint = "Write to object storage (S3/GCS) or a ReadWriteMany volume, not a local path."
    valid = examples(
        """
            import os
            from fastapi import FastAPI
            app = FastAPI()
            @app.post("/report")
            async def report(text: str):
                # The folder is made for the helper the path is handed to; that write is the finding.
                os.makedirs("outputs", exist_ok=True)
                file_path = "outputs/report.md"
                await write_to_file(file_path, text)
        """,
        """
            import os
            def ensure_directory(path):
                os.makedirs(path, exist_ok=True)
        """,
        """
            from pathlib import Path
            from flask import Flask
            app = Flask(__name__)
            @app.post("/thumbnails/clear")
            def clear():
                for item in Path("thumbnail_cache").glob("*.png"):
                    item.unlink()
                return ""
        """,
        """
            from io import BytesIO
            from PIL import Image
            from sanic import Sanic, raw
            app = Sanic("images")
            @app.post("/thumb")
            async def thumb(request):
                image = Image.open(BytesIO(request.body))
                image.thumbnail((300, 300))
                output = BytesIO()
                image.save(output, format="JPEG")
                return raw(output.getvalue())
        """,
        """
            import os
            from django.http import FileResponse
            def download(request, export_path):
                response = FileResponse(open(export_path, "rb"))
                os.remove(export_path)
                return response
        """,
        """
            import os
            from flask import Flask
            app = Flask(__name__)
            @app.post("/reload")
            def reload_pages():
                for name in os.listdir("cache"):
                    os.remove(f"cache/{name}")
                return ""
        """,
        """
            import pandas as pd
            from flask import Flask
            app = Flask(__name__)
            @app.get("/table")
            def table():
                df = pd.read_csv("static/prices.csv")
                return df.rename(columns={"p": "price"}).to_html()
        """,
        """
            from pathlib import Path
            from fastapi import FastAPI
            app = FastAPI()
            @app.get("/notes/{name}")
            def note(name: str):
                with (Path("notes") / name).open("r") as f:
                    return f.read()
        """,
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
        """
            import os
            import shutil
            from flask import Flask
            app = Flask(__name__)
            @app.post('/rotate')
            def rotate():
                shutil.move('media/avatar.png', os.path.join('/tmp', 'avatar.png'))
                return ''
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            @app.get('/books')
            def books():
                try:
                    with open('books.txt') as f:
                        return f.read()
                except FileNotFoundError:
                    with open('books.txt', 'w'):
                        pass
                    return ''
        """,
        """
            import io
            import joblib
            from flask import Flask
            app = Flask(__name__)
            @app.get("/model")
            def model_bytes():
                buffer = io.BytesIO()
                joblib.dump(model, buffer)
                return buffer.getvalue()
        """,
    )
    invalid = examples(
        """
            import os
            from fastapi import FastAPI
            app = FastAPI()
            @app.post("/login")
            async def login():
                # The extract folder later uploads are unpacked into exists on this pod only.
                if not os.path.isdir("files/extract"):
                    os.mkdir("files/extract")
                return {"ok": True}
        """,
        """
            from fastapi import UploadFile
            async def save_upload(upload: UploadFile) -> str:
                with open(f"uploads/{upload.filename}", "wb") as out:
                    out.write(await upload.read())
                return upload.filename
        """,
        """
            import anyio
            from litestar import post
            @post("/uploads/{upload_id:str}/chunks")
            async def chunk(upload_id: str, data: bytes) -> None:
                temp_path = anyio.Path("tmp_uploads") / upload_id
                async with await anyio.open_file(temp_path, mode="ab") as part:
                    await part.write(data)
        """,
        """
            from aiofile import async_open
            from aiohttp import web
            async def receive(request):
                async with async_open(f"data/{request.match_info['name']}", "wb") as out:
                    await out.write(await request.read())
                return web.Response()
            app = web.Application()
            app.router.add_post("/files/{name}", receive)
        """,
        """
            from pathlib import Path
            from fastapi import FastAPI
            app = FastAPI()
            @app.delete("/projects/{name}")
            def drop(name: str):
                for item in (Path("projects") / name).glob("*"):
                    item.unlink()
                (Path("projects") / name).rmdir()
        """,
        """
            from pathlib import Path
            from flask import Flask
            app = Flask(__name__)
            @app.delete("/pictures/<name>")
            def delete_picture(name):
                picture_path = Path("static/pictures") / name
                picture_path.unlink()
                return "", 204
        """,
        """
            import os
            from django.core.files.storage import FileSystemStorage
            def save_photo(request):
                storage = FileSystemStorage()
                storage.save(request.FILES["photo"].name, request.FILES["photo"])
        """,
        """
            from pathlib import Path
            from flask import Flask, current_app, request
            app = Flask(__name__)
            @app.post("/settings")
            def save_settings():
                with (Path(current_app.instance_path) / "settings.yml").open("w") as out:
                    out.write(request.get_data(as_text=True))
                return ""
        """,
        """
            from pathlib import Path
            from flask import Blueprint, request
            bp = Blueprint("folders", __name__)
            @bp.post("/folders/rename")
            def rename():
                folder = Path("notes") / request.form["old"]
                folder.rename(folder.with_name(request.form["new"]))
                return ""
        """,
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
        """
            import os
            from uuid import uuid4
            from flask import Blueprint, request
            bp = Blueprint("products", __name__)
            @bp.post("/products")
            def create():
                icon = request.files["icon"]
                ruta = os.path.abspath("app/static/img/{}".format(uuid4()))
                icon.save(ruta)
                return ""
        """,
        """
            import os
            import shutil
            import tempfile
            import config
            def insert_image(data):
                temporary_file = tempfile.NamedTemporaryFile(delete=False)
                temporary_file.write(data)
                destination = os.path.join(config.UPLOAD_FOLDER, os.path.basename(temporary_file.name))
                shutil.move(temporary_file.name, destination)
        """,
        """
            # file: server.py
            from flask import Flask, request
            from modules.service import add_book
            app = Flask(__name__)
            @app.post("/books")
            def post():
                add_book(request.form)
                return ""
            # file: modules/service.py
            from modules.storage import save_book
            def add_book(book):
                save_book("books.txt", book)
            # file: modules/storage.py
            def save_book(path, book):
                with open(path, "a") as out:
                    out.write(f"{book['name']}\\n")
        """,
        """
            import os
            from starlette.exceptions import HTTPException
            async def save_image(file, folder):
                # A helper that answers the request itself (it raises HTTPException).
                path = f"./static/upload/{folder}/{file.filename}"
                if os.path.exists(path):
                    raise HTTPException(status_code=400)
                with open(path, "wb") as out:
                    out.write(file.file.read())
        """,
        """
            import os
            from app.core.config import settings
            def save_file(filename, content):
                full_path = os.path.join(settings.local_storage_path, filename)
                with open(full_path, "wb") as out:
                    out.write(content)
        """,
        """
            import joblib
            from flask import Flask, request
            app = Flask(__name__)
            @app.post("/change-state")
            def change_state():
                joblib.dump(dict(request.form), "game_state")
                return ""
        """,
        """
            import os
            from django.http import JsonResponse
            def delete_ad_image(request, pk):
                img = Image.objects.values("path").get(pk=pk)
                os.remove(img["path"])
                return JsonResponse({})
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            @app.post("/pdf")
            def pdf():
                pdf_path = "static/downloads/out.pdf"
                image.save(r"{0}".format(pdf_path), save_all=True)
                return ""
        """,
        """
            def update_file(user, image):
                save_path = f"./static/upload/chat/{user}/"
                save_img = f"{save_path}" + f"{user}.png"
                image.save(save_img)
        """,
    )

    def visit_Call(self, node: cst.Call) -> None:
        deferred = None if self.ctx.is_request_time(node) else self.ctx.deferred(node)
        if deferred is None and not self.ctx.is_request_time(node):
            return
        written = self._write(node)
        subject = written or self._removal(node) or self._folder(node)
        if subject and self._rewrite(node):
            return
        if written and self._dropped_later(node):
            return  # a scratch file: written, used and removed within the same call
        if subject and not self._temporary(node):
            destination = self._destination_code(node) if deferred is not None else ""
            if deferred is not None and (
                UPLOAD_ROOTS.search(destination)
                or (written and UPLOAD_LITERAL.search(destination))  # a new file in the upload folder
                or (self._answers_request(node) and not TEMP_HINT.search(destination))
            ):
                deferred = None
            self.report_request_time(node, subject, deferred)

    def _rewrite(self, node: cst.Call) -> bool:
        """A save to a file variable an earlier call of the function already wrote
        (``open(path, "wb")`` then ``image.save(path)`` to resize it): one file, one finding."""
        destination = self._destination(node)
        if destination is None or not isinstance(destination.value, cst.Name):
            return False
        functions = self.ctx.enclosing_functions(node)
        func = node.func
        saves = isinstance(func, cst.Attribute) and func.attr.value in PATH_WRITERS
        if not functions or not saves or not self._write(node):
            return False  # (a second ``open(path, "wb")``, e.g. a retry once the folder exists, is kept)
        name = destination.value.value
        for call in walk(functions[0].body):
            if call is node:
                return False
            if not isinstance(call, cst.Call) or not self._write(call):
                continue
            earlier = self._destination(call)
            if earlier is not None and isinstance(earlier.value, cst.Name) and earlier.value.value == name:
                return True
        return False

    def _dropped_later(self, node: cst.Call) -> bool:
        """The written file's variable is removed later in the same function (``file.save(path)``,
        ``extract(path)``, ``os.remove(path)``): a scratch file no other request reads."""
        destination = self._destination(node)
        functions = self.ctx.enclosing_functions(node)
        if destination is None or not isinstance(destination.value, cst.Name) or not functions:
            return False
        name = destination.value.value
        after = False
        for call in walk(functions[0].body):
            if call is node:
                after = True
                continue
            if not after or not isinstance(call, cst.Call):
                continue
            func = call.func
            if self.ctx.calls(call, REMOVERS):
                target = call.args[0].value if call.args else None
            elif isinstance(func, cst.Attribute) and func.attr.value in PATH_REMOVERS:
                target = func.value
                if isinstance(target, cst.Call) and target.args:  # ``Path(path).unlink()``
                    target = target.args[0].value
            else:
                continue
            if isinstance(target, cst.Name) and target.value == name:
                return True
        return False

    def _answers_request(self, node: cst.Call) -> bool:
        """The function around ``node`` answers an HTTP request itself: it raises an
        ``HTTPException`` or calls ``abort(...)`` (a helper of the handlers, whoever calls it)."""
        functions = self.ctx.enclosing_functions(node)
        if not functions:
            return False
        for sub in walk(functions[-1].body):
            raised = sub.exc if isinstance(sub, cst.Raise) else None
            if isinstance(raised, cst.Call):
                raised = raised.func
            if isinstance(raised, cst.Name | cst.Attribute) and self.ctx.module.code_for_node(
                raised
            ).endswith("HTTPException"):
                return True
            if isinstance(sub, cst.Call) and self.ctx.calls(sub, ABORTS):
                return True
        return False

    def _write(self, node: cst.Call) -> str | None:
        func = node.func
        if self._opens(node):
            text = self._mode(node)
            if text is not None and WRITE_MODE.search(text) and node.args and not self._touch(node):
                return "file opened for writing at request time"
            return None
        if self.ctx.calls(node, SHUTIL_WRITERS):
            return "file copied to a local path at request time"
        dumper = next((name for name in DUMPERS if self.ctx.calls(node, {name})), None)
        if dumper is not None:
            args = [a for a in node.args if a.keyword is None]
            index = DUMPERS[dumper]
            if len(args) > index and self._pathlike(args[index].value):
                return f"`{self.ctx.module.code_for_node(node.func)}()` writes a file at request time"
            return None
        if self.ctx.calls(node, FS_MOVERS):
            name = self.ctx.module.code_for_node(node.func)
            return f"`{name}()` moves a file on the local disk at request time"
        if isinstance(func, cst.Attribute) and func.attr.value == "open" and self._pathlike(func.value):
            given = string_value(node.args[0].value) if node.args else None
            if given is not None and WRITE_MODE.search(given) and not self._touch(node):
                return "file opened for writing at request time"
            return None
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in PATH_MOVERS
            and len(node.args) == 1  # ``Path.replace(target)``, not ``str.replace(old, new)``
            and not isinstance(node.args[0].value, cst.SimpleString)
            and self._pathlike(func.value)
        ):
            return f"`.{func.attr.value}()` moves a file on the local disk at request time"
        if isinstance(func, cst.Attribute) and func.attr.value in PATH_WRITERS:
            if func.attr.value in {"write_text", "write_bytes"}:
                return "file written at request time"
            if func.attr.value == "save" and self._local_storage(func.value):
                return "file saved through `FileSystemStorage` at request time"
            first = node.args[0] if node.args else None
            if first is not None and first.keyword is None and self._pathlike(first.value):
                return f"`.{func.attr.value}()` to a local path at request time"
        return None

    def _folder(self, node: cst.Call) -> str | None:
        """``os.makedirs(folder)``, ``folder.mkdir()`` at request time in a function that writes
        no file itself (the file written there is then the finding): the folder a later request
        stores into, or reads back from, exists on this replica only. A scratch folder (``tmp``,
        ``tempfile``) is not reported."""
        func = node.func
        if self.ctx.calls(node, DIR_MAKERS):
            target = node.args[0].value if node.args else None
        elif (
            isinstance(func, cst.Attribute)
            and func.attr.value == "mkdir"
            and all(a.keyword is not None for a in node.args)  # ``Path.mkdir``, not ``sftp.mkdir(p)``
        ):
            target = func.value
        else:
            return None
        if target is None or not self._pathlike(target):
            return None
        code = self.ctx.module.code_for_node(target)
        if isinstance(target, cst.Name):
            bound = self._bound_in_function(target)
            code += "" if bound is None else "\n" + self.ctx.module.code_for_node(bound)
        if TEMP_HINT.search(code) or CACHE_HINT.search(code) or "tempfile" in code:
            return None
        functions = self.ctx.enclosing_functions(node)
        if not functions:
            return None
        params = {p.name.value for p in walk(functions[0].params) if isinstance(p, cst.Param)}
        if isinstance(target, cst.Name) and target.value in params:
            return None  # ``ensure_dir(path)``: a helper; its callers decide what the folder is
        if isinstance(target, cst.Name) and self.ctx.module_binding(target) is not None:
            return None  # ``UPLOAD_DIR.mkdir()``: the module's folder, reported where it is written
        after = False
        for call in walk(functions[0].body):
            if call is node:
                after = True
            if not isinstance(call, cst.Call) or call is node:
                continue
            if self._write(call):
                return None
            if after and self._hands_over_path(call):
                return None  # the file is written by the function the path is given to
        return "folder created on the local disk at request time"

    def _hands_over_path(self, call: cst.Call) -> bool:
        """A call (not a path helper) given a path variable: ``save_file(file_path, data)``."""
        callee = self.ctx.module.code_for_node(call.func)
        if callee.startswith(("os.", "shutil.", "logger.", "logging.", "log.")) or callee in BUILTINS:
            return False
        if self.ctx.refers_to(call.func, PATH_BUILDERS) or self.ctx.calls(call, DIR_MAKERS):
            return False
        return any(
            a.keyword is None and isinstance(a.value, cst.Name | cst.Attribute) and self._pathlike(a.value)
            for a in call.args
        )

    def _removal(self, node: cst.Call) -> str | None:
        """``os.remove(path)``, ``path.unlink()``, ``shutil.rmtree(folder)`` in a function that
        writes no file: a stored file deleted on this replica only."""
        func = node.func
        if self.ctx.calls(node, REMOVERS):
            target = node.args[0].value if node.args else None
        elif isinstance(func, cst.Attribute) and func.attr.value in PATH_REMOVERS:
            target = func.value
        else:
            return None
        if target is None or not self._pathlike(target):
            return None
        listing = self._listing(target)
        code = self.ctx.module.code_for_node(target if listing is None else listing)
        if CACHE_HINT.search(code) or (listing is not None and TEMP_HINT.search(code)):
            return None  # a purge of this replica's own cache files
        functions = self.ctx.enclosing_functions(node)
        for call in walk(functions[0].body):
            # Beside a write (which is the finding) or after reading the file back (a scratch
            # file served and dropped, ``FileResponse(open(path, "rb"))`` then ``os.remove(path)``).
            if isinstance(call, cst.Call) and (self._write(call) or self.ctx.calls(call, OPENERS)):
                return None
        return "file removed from the local disk at request time (other replicas keep their copy)"
