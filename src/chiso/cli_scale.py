"""``chiso export --format parquet``: the workspace's tables as a Parquet lake (kho Parquet), the hand-off to a
national cluster (docs/scale.md); ``--merge`` makes one lake of several provinces' lakes."""

from __future__ import annotations

from pathlib import Path

import click


def register(main: click.Group) -> None:
    from chiso.cli import _check_out, open_store

    @main.command("export")
    @click.option("--format", "fmt", type=click.Choice(["parquet"]), default="parquet", show_default=True)
    @click.option("--out", required=True, type=click.Path(file_okay=False), metavar="THƯ-MỤC",
                  help="Thư mục kho Parquet (tạo mới, hoặc thay cả kho Parquet cũ ở đó).")
    @click.option("--merge", "merge", multiple=True, type=click.Path(exists=True, file_okay=False), metavar="KHO",
                  help="Gộp các kho Parquet này (của các tỉnh) thành một kho, thay vì xuất thư mục làm việc. "
                       "Lặp lại cho mỗi kho.")
    @click.pass_context
    def export(ctx: click.Context, fmt: str, out: str, merge: tuple[str, ...]) -> None:
        """Xuất dữ liệu (hồ sơ theo tỉnh và tháng, đơn vị, thủ tục, lịch làm việc …) thành kho Parquet để tính
        trên cụm Spark hay DuckDB: chiso score --lake THƯ-MỤC."""
        from chiso import api
        from chiso.engines.lake import LakeError

        _check_out(ctx, out, directory=True)
        try:
            if merge:
                done = api.export_lake(None, Path(out), merge=[Path(m) for m in merge])
            else:
                done = api.export_lake(open_store(ctx, read_only=True), Path(out))
        except LakeError as exc:
            raise click.ClickException(str(exc)) from None
        from chiso.vnformat import integer

        counts = ", ".join(f"{t} {integer(n)}" for t, n in done.rows.items())
        click.echo(f"{done.path}: {counts} dòng")
