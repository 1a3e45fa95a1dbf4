"""The `phototips` command: serve, score photos, suggest a hero."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import paths
from .auth.principal import ROLES, Principal
from .config import load_settings, with_overrides
from .errors import PhotoTipsError

OPERATOR = Principal("key", "operator", frozenset(ROLES))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="phototips", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the HTTP + Socket.IO server with the demo page at /")
    s.add_argument("--host")
    s.add_argument("--port", type=int)

    s = sub.add_parser("model-server", help="run the shared model server that web processes' `remote` scorer calls")
    s.add_argument("--host")
    s.add_argument("--port", type=int, help="default PHOTOTIPS_MODEL_SERVER_PORT (8100)")

    s = sub.add_parser("keys", help="API keys of app clients and product teams: add, list, revoke")
    s.add_argument("action", choices=["add", "list", "revoke"])
    s.add_argument("name", nargs="?", help="add: the client's name (keys of one client share its sellers); "
                                             "revoke: the key id")
    s.add_argument("--roles", default="app", help=f"add: comma-separated, of {', '.join(ROLES)} (default app)")

    s = sub.add_parser("score", help="score photos; one result per photo")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--scorer", help="scorer name (default: the configured chain)")
    s.add_argument("--item-type")
    s.add_argument("--locale")
    s.add_argument("--json", action="store_true", help="one JSON object per line")

    s = sub.add_parser("experiments", help="A/B tests of tip wording")
    s.add_argument("action", choices=["list", "report"])
    s.add_argument("experiment_id", nargs="?")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("study", help="reproduce the study: synthetic benchmark data; calibrate the photo check; "
                                     "train the learned edge network; build the pretrained candidate for it")
    s.add_argument("action", choices=["synthetic", "calibrate", "edge-net", "pretrained"])
    s.add_argument("--out", help="synthetic: directory for images/, ratings.csv, truth.csv, SYNTHETIC.md; "
                                 "edge-net: the .onnx file (default bench/out/edge-net.onnx; the check reads models/edge-net.onnx); "
                                 "pretrained: the .onnx file (default bench/out/pretrained-edge-net-SIDE.onnx)")
    s.add_argument("--set", default=str(paths.HOME / "data" / "realset"),
                   help="calibrate, edge-net: the labelled real-photo set (default data/realset)")
    s.add_argument("--train-set", default=str(paths.HOME / "data" / "edge-train"),
                   help="edge-net, pretrained: the network's training photos (default data/edge-train)")
    s.add_argument("--side", type=int, default=96, choices=[64, 96, 128, 160],
                   help="pretrained: the side the backbone reads the photo at (default 96)")
    s.add_argument("--no-degrade", action="store_true",
                   help="edge-net: train without degraded copies (the first candidate measured in docs/benchmarks.md)")
    s.add_argument("--crops", action="store_true",
                   help="edge-net: add synthetic cut-offs made by cropping (tried, not shipped: docs/decisions.md)")
    s.add_argument("--clutter-batches", type=int, nargs="+", default=[], metavar="N",
                   help="edge-net: batches of the training set that teach clutter only, by the majority of their "
                        "three labellings (docs/decisions.md)")
    s.add_argument("--batches", type=int, nargs="+", metavar="N",
                   help="edge-net: the training set's batches to learn from (default: the shipped network's)")
    s.add_argument("--majority", action="store_true",
                   help="edge-net: photos labelled three times learn what two of the three labellings say")
    s.add_argument("--dry-run", action="store_true", help="calibrate: print the fit, do not write it")
    s.add_argument("--score", action="store_true",
                   help="calibrate: refit the score's base and weights too (kept from the calibration file otherwise)")
    s.add_argument("--per-photo", type=int, default=40, help="degraded copies per source photo")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--extra-photos", help="a folder of more real photos (e.g. ../shared/data)")

    s = sub.add_parser("eval", help="scorers × prompts against human ratings: predictions, metrics, report")
    s.add_argument("--ratings", required=True)
    s.add_argument("--scorers", default="photo-check")
    s.add_argument("--prompts", default="generic,guided")
    s.add_argument("--out", required=True)
    s.add_argument("--split", choices=["all", "train", "test"], default="all",
                   help="evaluate on the seeded 60/40 split's part (the learned scorer is trained on train)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples for the intervals")

    s = sub.add_parser("train", help="train on the seeded train split: learned ONNX scorer, Qwen LoRA, Bedrock export")
    s.add_argument("what", choices=["learned", "lora", "bedrock-export"])
    s.add_argument("--ratings", required=True)
    s.add_argument("--out", required=True, help="learned: the .onnx file; lora: adapter dir; bedrock-export: dir")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--model", help="lora: Qwen2.5-VL checkpoint dir or hub id (default PHOTOTIPS_QWEN_MODEL)")
    s.add_argument("--steps", type=int, default=200)
    s.add_argument("--device", default="auto")
    s.add_argument("--s3-prefix", default="s3://YOUR-BUCKET/phototips", help="bedrock-export: where images will be")

    s = sub.add_parser("db", help="the event database")
    s.add_argument("action", choices=["upgrade", "current"])

    s = sub.add_parser("hero", help="rank the photos of one listing and suggest the hero")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--item-type")
    s.add_argument("--locale")
    s.add_argument("--json", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "serve":
            return _serve(with_overrides(settings, host=args.host, port=args.port))
        if args.command == "model-server":
            return _model_server(with_overrides(settings, host=args.host, model_server_port=args.port))
        if args.command == "db":
            return _db(settings, args)
        if args.command == "keys":
            return _keys(settings, args)
        if args.command == "study":
            return _study(settings, args)
        if args.command == "eval":
            return _eval(settings, args)
        if args.command == "train":
            return _train(settings, args)
        from .service import PhotoService

        svc = PhotoService(settings)
        if args.command == "score":
            return _score(svc, args)
        if args.command == "experiments":
            return _experiments(svc, args)
        return _hero(svc, args)
    except PhotoTipsError as exc:
        print(f"phototips: {exc.message}", file=sys.stderr)
        return 2


def _serve(settings) -> int:
    from .serving import serve

    print(f"Photo Tips on http://{settings.host}:{settings.port}/ (scorers: {', '.join(settings.scorers)}; "
          f"{settings.worker_count or 'no'} photo-check workers)", flush=True)
    return serve(settings)


def _model_server(settings) -> int:
    from .serving import serve_models

    print(f"Photo Tips model server on http://{settings.host}:{settings.model_server_port}/ "
          f"(scorer: {settings.model_server_scorer})", flush=True)
    return serve_models(settings)


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise PhotoTipsError("unreadable_file", f"cannot read {path}: {exc.strerror}", 400) from None


def _score(svc, args) -> int:
    failed = 0
    for path in args.paths:
        try:
            # The command line is the operator's own door: every role, no seller.
            out = svc.score_bytes(OPERATOR, _read(path), item_type=args.item_type, locale=args.locale,
                                  scorer=args.scorer, file=path)
        except PhotoTipsError as exc:
            failed += 1
            out = {"file": path, "error": exc.to_dict()}
        if args.json:
            print(json.dumps(out, ensure_ascii=False), flush=True)
        elif "error" in out:
            print(f"{path}: error: {out['error']['message']}", flush=True)
        else:
            print(f"{path}: {out['score']:.2f} ({out['rating']}/5) by {out['scorer']} — {out['justification']}")
            for tip in out["tips"]:
                print(f"  • {tip['text']}")
    return 1 if failed else 0


def _hero(svc, args) -> int:
    req = svc.make_request(args.item_type, args.locale)
    uploads, unread = [], []
    for path in args.paths:
        try:
            uploads.append((path, _read(path)))
        except PhotoTipsError as exc:
            unread.append({"file": path, "error": exc.to_dict()})
    out = svc.rank_uploads(uploads, req)
    out.pop("photos")
    errors = out["errors"] = unread + out["errors"]
    candidates = out["ranking"]
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        for i, entry in enumerate(out["ranking"], 1):
            mark = "★" if entry["file"] == out["hero"] else " "
            print(f"{mark} {i}. {entry['file']}: {entry['score']:.2f} — {' '.join(entry['reasons'])}")
        for e in errors:
            print(f"  {e['file']}: error: {e['error']['message']}")
    return 1 if errors or not candidates else 0


def _keys(settings, args) -> int:
    from .auth.keys import KeyStore
    from .storage.db import open_database, where

    engine = open_database(settings.database_url, settings.migrate_on_start)
    keys = KeyStore(engine)
    if args.action == "add":
        if not args.name:
            raise PhotoTipsError("bad_arguments", f"keys add NAME [--roles {','.join(ROLES)}]")
        key, info = keys.add(args.name, [r.strip() for r in args.roles.split(",") if r.strip()])
        print(f"{key}\n  id {info.key_id}, client {info.client}, roles {', '.join(info.roles)}, in {where(engine)} — "
              "shown once: store it in the client's secret store", flush=True)
    elif args.action == "list":
        for k in keys.list():
            state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
            print(f"{k.key_id}  {k.client:20} {','.join(k.roles):20} created {k.created_at:%Y-%m-%d %H:%M}  {state}")
    else:
        if not args.name:
            raise PhotoTipsError("bad_arguments", "keys revoke KEY_ID (see `phototips keys list`)")
        if not keys.revoke(args.name):
            raise PhotoTipsError("unknown_key", f"no active key {args.name!r}")
        print(f"revoked {args.name} in {where(engine)}; every server stops accepting it within its "
              f"PHOTOTIPS_KEY_CACHE_S (here {settings.key_cache_s:g} s)")
    return 0


def _db(settings, args) -> int:
    from .storage.db import current_revision, open_database, where

    upgrade = args.action == "upgrade"
    engine = open_database(settings.database_url, migrate_now=upgrade, check_schema=False)
    print(f"{where(engine)}: revision {current_revision(engine)}")
    return 0


def _experiments(svc, args) -> int:
    from .experiments.report import experiment_report

    exps = svc.experiments.experiments
    if args.action == "list":
        for e in exps.values():
            print(f"{e.id}: {', '.join(e.tips)} — {', '.join(v.id for v in e.variants)} ({e.start:%Y-%m-%d} → {e.end:%Y-%m-%d})")
        return 0
    if not args.experiment_id:
        raise PhotoTipsError("bad_arguments", "experiments report EXPERIMENT_ID (see `phototips experiments list`)")
    if args.experiment_id not in exps:
        raise PhotoTipsError("unknown_experiment", f"no experiment {args.experiment_id!r}; see `phototips experiments list`")
    rep = experiment_report(svc.engine, exps[args.experiment_id], svc.experiments.event_types,
                            svc.settings.min_sellers_per_variant)
    if args.json:
        print(json.dumps(rep, indent=2, ensure_ascii=False))
        return 0
    print(f"{rep['experiment']}: {rep['verdict']}")
    metrics = list(rep["variants"][0]["rates"])
    # Each column as wide as its name (hero_changed is 12): a name of 11 or more ran into the next.
    width = {m: max(10, len(m)) + 1 for m in metrics}
    print("variant".ljust(12) + "sellers".rjust(9) + "".join(m.rjust(width[m]) for m in metrics) + "  score Δ")
    for v in rep["variants"]:
        rates = "".join((f"{v['rates'][m]:.1%}" if v["rates"][m] is not None else "—").rjust(width[m])
                        for m in metrics)
        delta = f"{v['mean_score_change']:+.2f}" if v["mean_score_change"] is not None else "—"
        print(f"{v['variant'][:12]:12}{v['sellers']:9d}{rates}  {delta}")
        for m, d in (v.get("vs_control") or {}).items():
            if d:
                print(f"   {m} vs control: {d['diff']:+.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}], p={d['p_value']:.3g}")
    if rep["srm"]:
        print(f"sample ratio check: p={rep['srm']['p_value']:.3g}{' MISMATCH' if rep['srm']['mismatch'] else ''}")
    return 0


def _study(settings, args) -> int:
    if args.action == "calibrate":
        return _calibrate(settings, args)
    if args.action == "edge-net":
        return _edge_net(settings, args)
    if args.action == "pretrained":
        return _pretrained(settings, args)
    if not args.out:
        raise PhotoTipsError("bad_arguments", "study synthetic needs --out DIR", 2)
    from .study.metrics import human_ceiling
    from .study.ratings import ratings_per_image, read_ratings
    from .study.synthetic import make_synthetic

    path = make_synthetic(args.out, per_photo=args.per_photo, seed=args.seed, extra_dir=args.extra_photos)
    rated = read_ratings(path)
    per = ratings_per_image(rated)
    ceiling = human_ceiling(rated)
    print(f"SYNTHETIC ratings written to {path}: {per['images']} photos, {per['ratings']} ratings, "
          f"{per['mean']:.1f} ± {per['sd']:.1f} per photo; a rater agrees with the others' majority "
          f"{ceiling['leave_one_out_agreement']:.1%} of the time (the study's humans: 54.26%)")
    return 0


def _edge_net(settings, args) -> int:
    from .study.edge_train import calibration_inputs, train_edge_net

    # Not the shipped file by default: the check reads models/edge-net.onnx, and a network replaced there without
    # refitting the models that read it and a new version would change every score under the old version's name.
    shipped = paths.MODELS / "edge-net.onnx"
    out = args.out or str(paths.HOME / "bench" / "out" / "edge-net.onnx")
    meta = train_edge_net(args.train_set, calibration_inputs(args.set, settings), out, settings, seed=args.seed,
                          degrade=not args.no_degrade, crops=args.crops, clutter_batches=args.clutter_batches,
                          majority=args.majority, **({"batches": tuple(args.batches)} if args.batches else {}))
    step = ("this is the file the check reads" if Path(out).resolve() == shipped.resolve()
            else f"to ship it, copy it to {shipped}")
    print(f"{out} ({meta['sha256']}): trained on {meta['trained_on']} photos for {meta['epochs']} epochs; "
          f"cut-off AUC on the calibration half {meta['validation_cut_off_auc']:.3f}. The photo check reads "
          f"{shipped}: {step}, run `phototips study calibrate` and raise `version` in models/photo-check.yaml.")
    return 0


def _pretrained(settings, args) -> int:
    from .study.pretrained import build_candidate

    out = args.out or str(paths.HOME / "bench" / "out" / f"pretrained-edge-net-{args.side}.onnx")
    meta = build_candidate(args.train_set, settings, args.side, out)
    print(f"{out} ({meta['sha256']}): probes fitted on {meta['trained_on']} photos; {meta['forward_ms']:.2f} ms a "
          f"forward pass on one thread here. Not for shipping as it is: to read it through the check, follow "
          f"docs/decisions.md, \"A pretrained network's reading, explored\".")
    return 0


def _calibrate(settings, args) -> int:
    from .study.calibrate import calibrate

    cal = calibrate(args.set, settings.photo_check_model, settings, write=not args.dry_run, score=args.score)
    print(f"fitted on {cal['fitted_on']['photos']} photos ({cal['fitted_on']['samples']} with degraded copies)")
    for key, p in cal["problems"].items():
        c = cal["counts"][key]
        weights = ", ".join(f"{k} {v:+.3g}" for k, v in p["weights"].items())
        print(f"  {key}: bias {p['bias']:+.3g}; {weights}  ({c['positives']} with, {c['negatives']} without)")
    for key, p in (cal.get("second_looks") or {}).items():
        weights = ", ".join(f"{k} {v:+.3g}" for k, v in p["weights"].items())
        print(f"  {key}, second look: bias {p['bias']:+.3g}; {weights}")
    sc = cal["score"]
    print(f"  score = {sc['base']:.2f} − " + " − ".join(f"{w:.2f}×{a}" for a, w in sc["weights"].items())
          + f"  (fitted {cal['score_fitted_on']['date']} on {cal['score_fitted_on']['photos']} photos"
          + ("" if cal["score_refitted"] else "; kept, --score refits it") + ")")
    print("not written (--dry-run)" if args.dry_run else "written next to " + settings.photo_check_model)
    return 0


def _eval(settings, args) -> int:
    from .study.evaluate import run_eval
    from .study.ratings import read_ratings
    from .study.split import stratified_split

    if args.bootstrap < 100:
        raise PhotoTipsError("bad_arguments", f"--bootstrap must be at least 100 resamples, got {args.bootstrap}")
    rated = read_ratings(args.ratings)
    if args.split != "all":
        train, test = stratified_split(rated, seed=args.seed)
        rated = train if args.split == "train" else test
    results = run_eval(args.ratings, [s.strip() for s in args.scorers.split(",") if s.strip()],
                       [p.strip() for p in args.prompts.split(",") if p.strip()], args.out, settings,
                       subset=rated, n_resamples=args.bootstrap)
    if results["synthetic"]:
        print("SYNTHETIC ratings: the figures check the harness, not agreement with real buyers.")
    for e in results["results"]:
        m = e["metrics"] or {}
        get = lambda k: (m.get(k) or {}).get("value", float("nan"))  # noqa: E731
        print(f"{e['scorer']:>12} {e['prompt']:>8}  n={e['n']:4d} errors={e['errors']:3d}  "
              f"agree={get('percent_agreement'):.3f} κq={get('kappa_quadratic'):.3f} "
              f"κl={get('kappa_linear'):.3f} r={get('pearson'):.3f}")
    print(f"report: {args.out}/report.md, {args.out}/report.html ({results['cache']['from_cache']} answers from cache)")
    return 0


def _train(settings, args) -> int:
    from .study.ratings import read_ratings
    from .study.split import stratified_split
    from .study.synthetic import is_synthetic

    train, test = stratified_split(read_ratings(args.ratings), seed=args.seed)
    print(f"train split: {len(train)} photos (test: {len(test)}, seed {args.seed})")
    if args.what == "learned":
        from .study.learned import train_learned

        meta = train_learned(train, args.out, settings, seed=args.seed, synthetic=is_synthetic(args.ratings))
        print(f"learned scorer {meta['sha256']} written to {args.out}; use it with PHOTOTIPS_LEARNED_MODEL={args.out}")
    elif args.what == "lora":
        from .scoring.qwen_model import pick_device
        from .study.finetune import train_lora

        losses = train_lora(train, args.model or settings.qwen_model, args.out, settings, steps=args.steps,
                            device=pick_device(args.device), seed=args.seed)
        k = max(1, min(10, len(losses) // 4))
        print(f"LoRA adapter written to {args.out}: loss {sum(losses[:k]) / k:.3f} → {sum(losses[-k:]) / k:.3f} "
              f"over {len(losses)} steps; use it with PHOTOTIPS_QWEN_ADAPTER={args.out}")
    else:
        from .study.finetune import export_bedrock

        path = export_bedrock(train, args.out, args.s3_prefix, settings)
        print(f"{path}: {len(train)} records (bedrock-conversation-2024); upload {args.out}/images to "
              f"{args.s3_prefix}/images before creating the customisation job")
    return 0
