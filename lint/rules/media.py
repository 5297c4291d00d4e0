"""Category 16: Django ``MEDIA_ROOT`` / Flask ``UPLOAD_FOLDER`` on the pod's own disk, with no shared
storage configured anywhere in the project."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._classify import file_kind
from sessionkit.lint._rule import Facts, Rule, examples
from sessionkit.lint._types import Finding
from sessionkit.lint._vocab import UPLOAD_SETTING
from sessionkit.lint.rules._util import (
    dict_entries,
    literal_or_default,
    module_value,
    settings_in,
    string_value,
)

#: Upload/storage folder settings other than Django's ``MEDIA_ROOT`` (``UPLOAD_FOLDER``,
#: ``FHOST_STORAGE_PATH``...), read whole: a key that merely contains such a name is not one.
UPLOAD_KEYS = re.compile(rf"(\w+_)?({UPLOAD_SETTING})")
OBJECT_STORAGE = (
    "boto3.",
    "botocore",
    "minio.",
    "google.cloud.storage",
    "azure.storage",
    "s3fs",
    "storages.",
)
LOCAL_STORAGE = frozenset(
    {
        "django.core.files.storage.FileSystemStorage",
        "django.core.files.storage.filesystem.FileSystemStorage",
        "",
    }
)


class LocalMediaRoot(Rule):
    """Django ``MEDIA_ROOT`` or a Flask/Quart ``UPLOAD_FOLDER`` with no shared storage configured
    anywhere in the project (with no ``MEDIA_ROOT`` at all: each file field's ``upload_to=``,
    which Django then resolves against the working directory of the pod).

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
        r"MEDIA_ROOT|STORAGES|DEFAULT_FILE_STORAGE|UPLOAD(S|ED)?_\w+|STORAGE_\w+"
        r"|boto3|minio|google\.cloud|azure\.storage|upload_to\s*=",
    )
    message = (
        "uploads are stored under MEDIA_ROOT on the pod that received them, so other replicas "
        "cannot serve them and they vanish with the pod; configure shared storage "
        '(`STORAGES = {"default": {"BACKEND": "storages.backends.s3.S3Storage"}}`)'
    )
    fix_hint = "Configure django-storages (S3/GCS/Azure) as the default storage backend."
    valid = examples(
        """
            # file: blog/settings.py
            # The upload folder under MEDIA_ROOT is no second root; no model stores a file.
            MEDIA_ROOT = os.path.join(BASE_DIR, "media")
            CKEDITOR_UPLOAD_PATH = "uploads/"
            # file: blog/models.py
            from django.db import models
            class Post(models.Model):
                title = models.CharField(max_length=9)
        """,
        """
            # file: services/names.py
            # A folder name only; the module that joins it to a root and creates it is the finding.
            UPLOAD_FOLDER = "docs"
        """,
        """
            # file: settings.py
            # The default local storage, but nothing sets MEDIA_ROOT or gives it a location.
            STORAGES = {
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            }
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            app.config.update(FILES_STORAGE_PATH="s3://bucket/uploads")
        """,
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
        """
            # file: settings.py
            MEDIA_ROOT = BASE_DIR / "media"
            # file: staff/models.py
            from django.db import models
            class Employee(models.Model):
                name = models.CharField(max_length=80)
        """,
        """
            # file: app/configs.py
            import os
            UPLOAD_FOLDER = os.getenv("UPLOAD_FOLDER")
            # file: app/views/media.py
            import os
            from flask import Blueprint, send_file
            from app.configs import UPLOAD_FOLDER
            bp = Blueprint("media", __name__)
            @bp.get("/media/<name>")
            def media(name):
                return send_file(os.path.join(UPLOAD_FOLDER, name))
        """,
    )
    invalid = examples(
        """
            # file: core/settings.py
            import os
            MEDIA_URL = "/media/"
            MEDIA_ROOT = os.path.join(BASE_DIR, "media")
            CKEDITOR_UPLOAD_PATH = "/media/"
        """,
        """
            # file: services/photos.py
            import os
            PHOTO_UPLOAD_DIR = "uploads/photos"
            os.makedirs(PHOTO_UPLOAD_DIR, exist_ok=True)
            async def store(upload):
                with open(f"{PHOTO_UPLOAD_DIR}/{upload.filename}", "wb") as out:
                    out.write(await upload.read())
        """,
        """
            # file: settings.py
            MEDIA_ROOT = BASE_DIR / "media"
            STORAGES = {
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            }
        """,
        """
            # file: settings.py
            STORAGES = {
                "exports": {
                    "BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": "/srv/exports", "base_url": "/exports/"},
                },
            }
        """,
        """
            # file: shop/settings.py
            MEDIA_ROOT = BASE_DIR / "uploads"
            # file: shop/management/commands/backup_db.py
            import boto3
            from django.core.management.base import BaseCommand
            class Command(BaseCommand):
                def handle(self, *args, **options):
                    boto3.client("s3").upload_file("dump.sql", "backups", "dump.sql")
        """,
        """
            from flask import Flask, request
            app = Flask(__name__)
            app.config.update(MAX_CONTENT_LENGTH=2**24, FHOST_STORAGE_PATH="up")
            @app.post("/")
            def store():
                request.files["file"].save(app.config["FHOST_STORAGE_PATH"] + "/x")
                return "ok"
        """,
        """
            # file: config/settings.py
            INSTALLED_APPS = ["blog"]
            MEDIA_URL = "/media/"
            MEDIA_ROOT = BASE_DIR / "media"
        """,
        """
            # file: settings.py
            MEDIA_ROOT = BASE_DIR / "media"
            # file: shop/models.py
            from django.db import models
            class Photo(models.Model):
                image = models.ImageField(upload_to="photos/")
        """,
        """
            # file: settings.py
            import os
            MEDIA_ROOT = os.path.join(BASE_DIR, "media")
            # file: shop/views.py
            from django.core.files.storage import FileSystemStorage
            def upload(request):
                FileSystemStorage().save(request.FILES["f"].name, request.FILES["f"])
        """,
        """
            # file: site/settings.py
            # Both lines: the folder under the code checkout and the local backend writing to it.
            MEDIA_ROOT = os.path.join(BASE_DIR, "media")
            STORAGES = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
        """,
        """
            # file: settings.py
            MEDIA_ROOT = "/srv/media"
            STORAGES = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
            # file: shop/models.py
            from django.db import models
            class Photo(models.Model):
                image = models.ImageField(upload_to="photos/")
        """,
        """
            # file: config/settings/base.py
            MEDIA_ROOT = str(APPS_DIR / "media")
            # file: shop/views.py
            from django.core.files.storage import FileSystemStorage
            def upload(request):
                FileSystemStorage().save(request.FILES["f"].name, request.FILES["f"])
        """,
        """
            # file: settings.py
            MEDIA_ROOT: str = "/data/media"
            # file: shop/models.py
            from django.db import models
            class Photo(models.Model):
                image = models.ImageField(upload_to="photos/")
        """,
        """
            # file: config.py
            UPLOAD_FOLDER = "uploads"
            # file: helpers/uploads.py
            import os
            import shutil
            import config
            def store(temporary):
                shutil.move(temporary, os.path.join(config.UPLOAD_FOLDER, os.path.basename(temporary)))
        """,
        """
            # file: shop/settings.py
            INSTALLED_APPS = ["shop"]
            # file: shop/models.py
            from django.db import models
            class Service(models.Model):
                image = models.ImageField(upload_to="static/service/images/")
        """,
        """
            # file: polls/app.py
            import os
            from flask import Flask
            UPLOAD_FOLDER = os.path.join(os.path.dirname(__file__), "uploads")
            def create_app():
                app = Flask(__name__)
                app.config["UPLOAD_FOLDER"] = UPLOAD_FOLDER
                return app
            # file: polls/routes.py
            import os
            from flask import current_app, request
            def upload():
                f = request.files["cover"]
                f.save(os.path.join(current_app.config["UPLOAD_FOLDER"], f.filename))
        """,
    )

    @classmethod
    def project(cls, facts: Facts) -> list[Finding]:
        """``MEDIA_ROOT`` settings, unless some module of the project configures shared storage,
        or nothing in the project stores uploads (no file/image model field, no file written or
        saved by a module that names the upload folder: see ``links.scan``)."""
        if any(f.get("shared_storage") for f in facts.values()):
            return []
        uploads = any(f.get("uploads") for f in facts.values())
        # Without any model in view (only settings and views were linted) a Django MEDIA_ROOT
        # cannot be shown unused: it is reported.
        unknown = not any(f.get("models") for f in facts.values())
        roots = []
        media_root = any(f.get("media_root_set") for f in facts.values())
        storages = [
            (path, wanted[0])
            for path, own in sorted(facts.items())
            for wanted in [[e for e in own.get("local_storages", ()) if media_root or not e["needs_root"]]]
            if wanted
        ]
        for path, where in storages if uploads or unknown else ():
            alias = where["alias"]
            subject = f"`STORAGES[{alias!r}]` is a local `FileSystemStorage`, no shared storage backend"
            roots.append(cls.finding_at(path, where, subject))
        # A local default storage named in STORAGES is the line to change. A MEDIA_ROOT built from
        # the code's own location (``BASE_DIR / "media"``) is reported beside it: that folder is the
        # image's disk whatever the deployment mounts; a literal absolute one (``"/srv/media"``) is
        # where a deployment mounts a volume, so only the backend line is reported.
        anchored = any(where["alias"] == "default" for _, where in storages)
        for path, own in sorted(facts.items()):
            key = own.get("media_root", {}).get("key", "MEDIA_ROOT")
            if anchored and key == "MEDIA_ROOT" and own.get("media_root", {}).get("absolute", True):
                continue
            if "media_root" in own and (uploads or (unknown and key == "MEDIA_ROOT")):
                subject = f"`{key}` on local disk, no shared storage backend"
                roots.append(cls.finding_at(path, own["media_root"], subject))
        if not uploads:
            return roots
        if roots or any(f.get("media_root_set") for f in facts.values()):
            return roots
        # No MEDIA_ROOT anywhere: Django writes each field's files under the working directory.
        return [
            cls.finding_at(path, field, f"`upload_to={field['to']!r}` with no MEDIA_ROOT nor shared storage")
            for path, own in sorted(facts.items())
            for field in own.get("upload_fields", ())
        ]

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute):  # ``app.config.update(UPLOAD_FOLDER=...)``
            self._check(node)
        func = node.func
        name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
        if not isinstance(name, str) or not name.endswith(("FileField", "ImageField")):
            return
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "upload_to":
                target = string_value(arg.value)
                if target is not None and not self.ctx.in_test_config(arg):
                    fields = self.ctx.facts.setdefault("upload_fields", [])
                    fields.append({**self.position(arg), "to": target})

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self._storage_module(self.ctx.module.code_for_node(alias.name))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.module is not None and not node.relative:
            self._storage_module(self.ctx.module.code_for_node(node.module))

    def _storage_module(self, module: str) -> None:
        """An object-storage client imported by web code (not by a management command or a
        script: a backup to S3 does not store the uploads)."""
        if module.startswith(OBJECT_STORAGE) or module in {"boto3", "minio"}:
            source = (self.ctx.source or "").encode()
            if self.ctx.source is not None and file_kind(self.ctx.path, source) is not None:
                return
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
        production = not self.ctx.dev_only(node) and not self.ctx.in_test_config(node)
        for key, value, where in settings_in(self.ctx, node):
            keyword_arg = isinstance(self.ctx.parents.get(where), cst.Arg)  # ``update(UPLOAD_FOLDER=...)``
            upload_key = key != "MEDIA_ROOT" and UPLOAD_KEYS.fullmatch(key)
            plain_name = (
                isinstance(where, cst.Name)
                and not keyword_arg
                and not self.ctx.is_settings
                and not (upload_key and self._created_here(key))
            )
            local = string_value(value) != "" and "://" not in (string_value(value) or "")
            # A module's ``MEDIA_ROOT`` is its upload root; another upload setting beside it
            # (``CKEDITOR_UPLOAD_PATH = "uploads/"``, a folder under MEDIA_ROOT) does not replace it.
            media_root_here = "media_root" in self.ctx.facts and "key" not in self.ctx.facts["media_root"]
            if upload_key and not plain_name and local and production and not media_root_here:
                anchor = self.ctx.parents.get(where) if keyword_arg else node
                in_factory = not self.ctx.is_import_time(node)
                bound = module_value(self.ctx, value) if isinstance(value, cst.Name) and in_factory else None
                if bound is not None and isinstance(self.ctx.parents.get(bound), cst.Assign | cst.AnnAssign):
                    # ``app.config["UPLOAD_FOLDER"] = UPLOAD_FOLDER`` in an app factory: the folder is
                    # chosen where the module's constant is defined
                    anchor = self.ctx.parents.get(bound)
                self.ctx.facts["media_root"] = {**self.position(anchor or node), "key": key}
            if not isinstance(where, cst.Name):
                continue
            if key == "MEDIA_ROOT":
                self.ctx.facts["media_root_set"] = True
            if key == "MEDIA_ROOT" and string_value(value) != "" and production:
                literal = string_value(value)
                absolute = literal is not None and literal.startswith("/")
                self.ctx.facts["media_root"] = {**self.position(where), "absolute": absolute}
            elif key == "DEFAULT_FILE_STORAGE":
                backend = literal_or_default(self.ctx, value)[0]
                if backend not in LOCAL_STORAGE:
                    self.ctx.facts["shared_storage"] = True
            elif key == "STORAGES":
                self._storages(value, production)

    def _storages(self, value: cst.BaseExpression, production: bool) -> None:
        """``STORAGES = {...}``: a shared default backend, or the first alias kept on the local
        disk (the default one, reported once some module sets ``MEDIA_ROOT``, or one given its own
        ``location``)."""
        for alias, config, where in dict_entries(value):
            entries = {k: v for k, v, _ in dict_entries(config)}
            backend = literal_or_default(self.ctx, entries["BACKEND"])[0] if "BACKEND" in entries else ""
            local = (backend or "") in LOCAL_STORAGE
            if alias == "default" and not local:
                self.ctx.facts["shared_storage"] = True
            options = entries.get("OPTIONS")
            located = options is not None and any(k == "location" for k, _, _ in dict_entries(options))
            explicit = local and bool(backend) and alias != "staticfiles"
            if explicit and production and (alias == "default" or located):
                entry = {**self.position(where), "alias": alias, "needs_root": not located}
                self.ctx.facts.setdefault("local_storages", []).append(entry)

    def _created_here(self, name: str) -> bool:
        """A module that creates the folder its constant names (``os.makedirs(UPLOAD_DIR)``,
        ``UPLOAD_DIR.mkdir()``): the constant is the upload root itself, not a name for one."""
        source = self.ctx.source if self.ctx.source is not None else self.ctx.module.code
        pattern = rf"\b(os\.makedirs|os\.mkdir)\(\s*{re.escape(name)}\b|\b{re.escape(name)}\.mkdir\("
        return re.search(pattern, source) is not None
