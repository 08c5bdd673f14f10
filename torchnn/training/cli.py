"""The LightningCLI behind the ``torchnn`` command (see :mod:`torchnn.cli`)."""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path
from typing import Any, NoReturn

import torch
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from torchnn.data import TabularDataModule
from torchnn.training._lightning import instantiate_trainer
from torchnn.training.callbacks import RunArtifacts, RunCheckpoint
from torchnn.training.cli_messages import device_hint, missing_package, root_cause
from torchnn.training.module import DeepNetworkModule
from torchnn.training.predictions import PredictionWriter
from torchnn.training.progress import IterationProgressBar
from torchnn.training.runs import (
    RunLogger,
    check_checkpoint,
    fit_progress,
    latest_run,
    run_version_of,
)

__all__ = ["TorchnnCLI", "ConfigError"]

# ckpt_path values that Lightning resolves itself
_SPECIAL_CKPT = ("best", "hpc", "registry")
_DESCRIPTION = ("Train and evaluate torchnn's hand-derived networks: torchnn fit --config "
                "configs/flower.yaml (the README's main job).")
_EPILOG = ("Besides these subcommands, torchnn bench [options] runs the side-by-side benchmark "
           "against torch.nn (torchnn bench --help).")
# jsonargparse's message for "nan" or "inf" given to a float option (it reads them as text)
_NOT_FINITE = re.compile(r'Parser key "([\w.]+)":\s+Expected a <class \'float\'>\. '
                         r"Got value: ([+-]?(?:nan|inf|infinity))\s*$", re.IGNORECASE)


# jsonargparse's message for a value given to a key that a link sets
_LINKED = re.compile(r'Linked "([\w.]+)" must be given via "([\w.]+)"')
_LINKS = {"model.n_x": "the number of feature columns",
          "model.n_y": "C for a multiclass data set, else 1"}


class ConfigError(ValueError):
    """A configuration whose parts do not fit together (e.g. a regression network on labels)."""


class TorchnnArgumentParser(LightningArgumentParser):
    """Errors print one usage line, not the hundreds of options (``--help`` still lists them)."""

    def print_usage(self, file: Any = None) -> None:
        print(f"usage: {self.prog} [--config FILE] [--KEY VALUE ...]", file=file or sys.stdout)

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        linked = _LINKED.search(message)
        if linked:
            key, source = linked.groups()
            raise ConfigError(f"{key} is set from the data ({source}: {_LINKS.get(key, '')}); "
                              f"expected no {key} in the config or on the command line")
        found = _NOT_FINITE.search(message)
        if not found:
            super().error(message, ex)
        key, value = found.groups()
        if key.startswith("model."):  # the module's own rule for the value (lr: > 0)
            try:
                arguments: dict[str, Any] = {key.removeprefix("model."): float(value)}
                DeepNetworkModule(**arguments)
            except ValueError as err:
                raise ConfigError(str(err)) from None
        raise ConfigError(f"{key} must be a finite number, got {value}")


class TorchnnCLI(LightningCLI):
    """LightningCLI for :class:`DeepNetworkModule` and any :class:`TabularDataModule`.

    Adds: ``data.num_features`` linked to ``model.n_x``; a ``checkpoint`` section (last and best
    by ``val/J``); ``--num_threads``; the iteration progress bar and the run artifacts; and
    ``--ckpt_path last`` that resumes the newest ``runs/<name>/version_N`` *in that folder*
    (Lightning alone would look in a new, empty version folder).
    """

    def __init__(self, args: list[str] | None = None, run: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("save_config_kwargs", {"overwrite": True})  # resume rewrites it
        kwargs.setdefault("seed_everything_default", 1)
        kwargs.setdefault("trainer_defaults", {
            "logger": {"class_path": "torchnn.training.RunLogger",
                       "init_args": {"save_dir": "runs", "name": "default"}},
            "log_every_n_steps": 1,
        })
        kwargs.setdefault("parser_class", TorchnnArgumentParser)
        # NOTE: keys that are not subcommand names go to the top-level parser alone
        kwargs.setdefault("parser_kwargs", {"description": _DESCRIPTION, "epilog": _EPILOG})
        # NOTE: a parser per subcommand costs about 0.1 s to build: build only the one asked
        # for (all of them for `torchnn --help` or an unknown name, which lists them)
        given = (sys.argv[1:] if args is None else args) if run else []
        every = LightningCLI.subcommands()
        if isinstance(given, list) and given and given[0] in every:
            self.subcommands = lambda: {given[0]: every[given[0]]}  # type: ignore[method-assign]
        # NOTE: auto_configure_optimizers adds LightningCLI's --optimizer and --lr_scheduler
        super().__init__(DeepNetworkModule, TabularDataModule, subclass_mode_data=True,
                         args=args, run=run, **kwargs)

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.num_features", "model.n_x", apply_on="instantiate")
        # 1 (binary, regression) or C classes (multiclass: a softmax output)
        parser.link_arguments("data.num_outputs", "model.n_y", apply_on="instantiate")
        parser.add_argument(
            "--num_threads", type=int | None, default=1,
            help="torch intra-op threads; 1 is fastest for these small networks (null: torch's "
                 "default, one per core)")
        parser.add_lightning_class_args(RunCheckpoint, "checkpoint")
        parser.set_defaults({
            "checkpoint.monitor": "val/J",  # the validation cost J
            "checkpoint.mode": "min",
            "checkpoint.filename": "best",  # checkpoints/best.ckpt
            "checkpoint.save_last": True,  # checkpoints/last.ckpt, for --ckpt_path last
            "checkpoint.save_top_k": 1,
        })

    # ------------------------------------------------------------------------------------------
    # before anything is built: threads, and which run folder and checkpoint to use
    # ------------------------------------------------------------------------------------------

    def parse_arguments(self, parser: LightningArgumentParser, args: Any) -> None:
        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        cfg = self.config[subcommand] if subcommand else self.config
        if cfg.get("num_threads"):
            torch.set_num_threads(cfg.num_threads)
        # NOTE: before Lightning reads the checkpoint's hyperparameters (it loads the file right
        # after parsing), so a bad file gets our clear error and "last" is a real path by then.
        self._resolve_checkpoint(cfg, subcommand)

    def _resolve_checkpoint(self, cfg: Any, subcommand: str | None) -> None:
        self._run_version: int | None = None
        self._ckpt_shapes: dict[str, tuple[int, ...]] = {}
        self._ckpt_data: dict[str, Any] = {}  # each data module's fitted state, by class name
        ckpt = cfg.get("ckpt_path")
        if ckpt is None or ckpt in _SPECIAL_CKPT:
            return
        logger = cfg.trainer.get("logger")
        # NOTE: with a list of loggers Lightning keeps checkpoints under the first one's folder
        loggers = [getattr(lg, "init_args", None) for lg in (
            logger if isinstance(logger, list) else [logger])] or [None]
        save_dir = getattr(loggers[0], "save_dir", None)
        name = getattr(loggers[0], "name", None)
        version: int | None
        if ckpt == "last":
            found = latest_run(save_dir, name) if save_dir and name else None
            if found is None:
                where = Path(save_dir or ".", name or "")
                print(f"torchnn: no last checkpoint under {where}/version_*/checkpoints/; "
                      "starting a new run", file=sys.stderr)
                cfg.ckpt_path = None
                return
            version, path = found
            cfg.ckpt_path = ckpt = str(path)
        else:
            version = run_version_of(ckpt, save_dir, name) if save_dir and name else None
        checkpoint = check_checkpoint(ckpt)  # a clear error now, before any run folder is touched
        self._ckpt_shapes = {k: tuple(v.shape) for k, v in checkpoint["state_dict"].items()}
        self._ckpt_data = {k: v for k, v in checkpoint.items()
                           if isinstance(v, dict) and "feature_names" in v}
        if subcommand == "fit":
            _check_progress(cfg.trainer, ckpt, *fit_progress(checkpoint))
        if version is not None:
            # fit resumes in the run's own folder; validate/test/predict add their metrics and
            # predictions to the run that made the checkpoint; other loggers of the same run too
            self._run_version = version
            for args in loggers:
                folder = Path(getattr(args, "save_dir", ""), getattr(args, "name", ""))
                if args is not None and (args is loggers[0]
                                         or (folder / f"version_{version}").is_dir()):
                    args.version = version

    def instantiate_classes(self) -> None:
        try:
            with warnings.catch_warnings():
                # NOTE: replacing the module's configure_optimizers is what --optimizer is for
                warnings.filterwarnings("ignore", message=".*configure_optimizers` will be over")
                super().instantiate_classes()
        except ConfigError:
            raise
        except (ValueError, TypeError, OSError) as err:
            missing = missing_package(root_cause(err))
            if missing:
                raise ConfigError(missing) from err
            # a constructor's own message (the model's or the data's), not jsonargparse's wrapper
            raise ConfigError(f"the config could not be built: {root_cause(err)}") from err
        scheduler = self._get(self.config_init, "lr_scheduler")
        if scheduler and not self._get(self.config_init, "optimizer"):
            # NOTE: LightningCLI ignores --lr_scheduler without --optimizer; here it schedules
            # the module's own optimizer (model.optimizer / model.lr)
            self.model.lr_scheduler_init = scheduler

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        config = {**self._get(self.config_init, "trainer", default={}), **kwargs}
        self._check_parts(config)
        keys = self._parser(self.subcommand).callback_keys
        extra = [self._get(self.config_init, key) for key in keys]
        if config.get("fast_dev_run") or config.get("enable_checkpointing") is False:
            # fast_dev_run writes nothing (not even an empty checkpoints/ folder); Lightning
            # refuses a ModelCheckpoint when checkpointing is switched off
            extra = [c for c in extra if not isinstance(c, ModelCheckpoint)]
        if self.subcommand != "fit":
            self.save_config_callback = None  # keep the training run's config.yaml
            if getattr(self, "_run_version", None) is None:
                config["logger"] = False  # no run folder to add to: print, write nothing
        callbacks = config.get("callbacks") or []
        callbacks = list(callbacks) if isinstance(callbacks, list) else [callbacks]
        if not any(isinstance(c, RunArtifacts) for c in callbacks):
            callbacks.append(RunArtifacts())
        if config.get("enable_progress_bar", True) is not False and not any(
            isinstance(c, ProgressBar) for c in callbacks
        ):
            callbacks.append(IterationProgressBar())
        if self.subcommand == "predict" and not any(
                isinstance(c, PredictionWriter) for c in callbacks):
            callbacks.append(PredictionWriter())  # after the bar: its line prints last
        config["callbacks"] = callbacks
        try:
            trainer = instantiate_trainer(self, config, extra)  # with the checkpoint section
        except (MisconfigurationException, ImportError) as err:  # a GPU / TPU this machine lacks
            raise ConfigError(f"the trainer could not be built: {err}{device_hint(config)}") \
                from err
        for logger in trainer.loggers:  # an evaluation adds rows; the run's hparams stay fit's
            if isinstance(logger, RunLogger):
                logger.keep_hparams = self.subcommand != "fit"
        return trainer

    # ------------------------------------------------------------------------------------------
    # after: the parts must fit together
    # ------------------------------------------------------------------------------------------

    def _check_parts(self, trainer: dict) -> None:
        """Before the trainer is built: nothing is printed or written for a config that fails."""
        model, data = self.model, self.datamodule
        state = self._ckpt_data.get(type(data).__qualname__)
        if state and hasattr(data, "load_state_dict"):
            # NOTE: the data first: new rows whose columns differ from the training features get
            # that error (naming the columns), not the network's size mismatch that follows
            try:
                data.load_state_dict(state)
            except ValueError as err:
                raise ConfigError(str(err)) from None
        here = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        if self._ckpt_shapes and self._ckpt_shapes != here:
            diff = [f"{k} {self._ckpt_shapes.get(k)} in the checkpoint, {here.get(k)} here"
                    for k in sorted(self._ckpt_shapes.keys() | here.keys())
                    if self._ckpt_shapes.get(k) != here.get(k)]
            ckpt = self.config[self.subcommand].get("ckpt_path")
            raise ConfigError(
                f"checkpoint '{ckpt}' does not fit the network this config builds "
                f"({'; '.join(diff)}; n_x = {data.num_features} from {type(data).__name__}); "
                "expected a checkpoint trained on this data (with the config it was trained with)")
        task = getattr(data, "task", model.task)
        if task != model.task:
            raise ConfigError(
                f"data task is {task!r} ({type(data).__name__}) but the model is a {model.task} "
                f"network (output_activation={model.hparams.output_activation!r}); expected "
                "output_activation 'sigmoid' for binary data, 'softmax' for multiclass, "
                "'identity' or 'relu' for regression")
        if self.subcommand == "test" and getattr(data, "test_fraction", None) == 0:
            raise ConfigError(
                f"{type(data).__name__} has no test split (test_fraction is 0.0); "
                "expected test_fraction > 0 to test, e.g. --data.init_args.test_fraction 0.2")
        if self.subcommand != "fit":
            return
        # NOTE: the module makes its own updates (manual optimisation, and gd_step's fused update
        # keeps no .grad), which Lightning's clipping and accumulation cannot reach
        if trainer.get("gradient_clip_val"):
            raise ConfigError(
                f"trainer.gradient_clip_val is {trainer['gradient_clip_val']}, but torchnn's "
                "module makes its own gradient-descent updates, which Lightning cannot clip; "
                "expected null (for smaller steps lower model.lr)")
        # NOTE: fp16's GradScaler never sees the module's updates (on the CPU, Lightning would
        # quietly run bf16-mixed instead)
        if str(trainer.get("precision")) in ("16", "16-mixed"):
            raise ConfigError(
                f"trainer.precision is {trainer['precision']!r}: float16 with a gradient scaler, "
                "which the module's own updates do not use; expected '32-true', '64-true' or "
                "'bf16-mixed'")
        if trainer.get("accumulate_grad_batches", 1) != 1:
            raise ConfigError(
                f"trainer.accumulate_grad_batches is {trainer['accumulate_grad_batches']}, but "
                "each batch gets its own gradient-descent updates; expected 1 (for larger batches "
                "raise data.init_args.batch_size; null: the full batch)")


def _check_progress(trainer: Any, path: str, epochs: int, steps: int) -> None:
    """Fit from a checkpoint: refused past max_epochs / max_steps; nothing to do at them."""
    max_steps = -1 if trainer.get("max_steps") is None else trainer.max_steps
    max_epochs = trainer.get("max_epochs")
    if max_epochs is None:  # Lightning's defaults
        max_epochs = 1000 if max_steps == -1 else -1
    for key, done, limit, where in (
            ("max_epochs", epochs, max_epochs, f"ends at epoch {epochs - 1}"),
            ("max_steps", steps, max_steps, f"ends at iteration {steps}")):
        if limit == -1 or done < limit:
            continue
        if done > limit:
            raise ConfigError(
                f"checkpoint '{path}' {where} ({done} trained), past the --trainer.{key} {limit} "
                f"asked for; expected --trainer.{key} {done} or more to resume it, or no "
                "--ckpt_path to start a new run")
        print(f"torchnn: nothing to do: checkpoint '{path}' {where} ({done} trained, the "
              f"--trainer.{key} asked for): its run is complete; raise {key} to train on")
        raise SystemExit(0)
