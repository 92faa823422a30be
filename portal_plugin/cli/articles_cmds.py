"""`portal-marketplace articles import FILE`"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from marketplace.articles.importer import ArticleImportError, parse_article_file
from marketplace.articles.services import upsert_articles
from portal_plugin.cli.common import database_session, err_console, settings_or_exit

app = typer.Typer(no_args_is_help=True)


@app.command("import")
def import_articles(
    file: Path = typer.Argument(..., help="A .json or .csv file of articles.", exists=False),
) -> None:
    """Import articles from JSON or CSV, all or nothing."""
    settings = settings_or_exit()
    try:
        articles = parse_article_file(file)
    except ArticleImportError as exc:
        for problem in exc.problems[:50]:
            # Escaped: a value like "[/]" from the file is text, not console markup.
            err_console.print(
                f"[red]error:[/] {escape(str(problem))}", highlight=False, soft_wrap=True
            )
        if len(exc.problems) > 50:
            err_console.print(f"… and {len(exc.problems) - 50} more problems")
        err_console.print("nothing was imported")
        raise typer.Exit(2) from None
    with database_session(settings) as session:
        created, updated = upsert_articles(session, articles)
    typer.echo(
        f"imported {len(articles)} articles from {file.name}: {created} new, {updated} updated"
    )
