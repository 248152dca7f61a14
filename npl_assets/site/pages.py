"""The HTML of the bundled site: index pages, detail pages, the home page and robots.txt.

The markup carries the class names and ids the real site's list items, pager and detail pages
use (see the data contract); the rest is a plain, lean CMS page."""

from __future__ import annotations

from html import escape

from npl_assets.site.layout import SECTION_DIRS, SECTION_NAMES, DocType, page_filename
from npl_assets.site.source import Document

SITE_NAME = "银行业信贷资产登记流转中心"
SYNTHETIC_BANNER = "模拟数据，仅供测试：本站内容为程序生成的虚构数据，不是真实公告。"
LOCAL_COPY_NOTE = (
    "本站为银登中心不良贷款转让信息披露栏目的本地副本，由公开数据生成，仅供开发和测试使用；"
    "公告中的联系人、电话、邮箱和账户均为虚构。"
)

ROBOTS_TXT = "User-agent: *\nDisallow: /admin/\nAllow: /\n"

_STYLE = """
body{margin:0;font-family:"Microsoft YaHei",SimSun,sans-serif;font-size:14px;color:#333}
.header{background:#0b4f9c;color:#fff;padding:14px 40px;font-size:22px}
.header a{color:#fff;text-decoration:none}
.nav a{color:#dbe7f6;margin-right:18px;font-size:14px}
.notice{background:#fff7e0;border-bottom:1px solid #f0d98c;padding:6px 40px;font-size:12px}
.synthetic{background:#c0392b;color:#fff;padding:8px 40px;font-weight:bold}
.main{width:1000px;margin:16px auto}
.breadcrumb{color:#666;margin-bottom:12px}
.left-menu{float:left;width:200px}.left-menu li.active a{font-weight:bold}
.rightList{margin-left:220px}
ul.list-box{list-style:none;padding:0}
.rightListContent{display:flex;justify-content:space-between;border-bottom:1px dashed #ccc;
padding:8px 0}
.rightListContent a{color:#333;text-decoration:none}
.page-box{margin-top:16px}.page-box a,.page-box span{margin-right:10px}
.news_info_box h2{text-align:center;font-size:20px}
.news_info{text-align:center;color:#888}
.footer{clear:both;border-top:1px solid #ddd;color:#888;text-align:center;padding:16px;
font-size:12px}
""".strip()


def _page(title: str, crumbs: list[tuple[str, str | None]], body: str, synthetic: bool) -> str:
    trail = " &gt; ".join(
        f'<a href="{escape(href)}">{escape(name)}</a>' if href else f"<span>{escape(name)}</span>"
        for name, href in crumbs
    )
    banner = f'<div class="synthetic">{escape(SYNTHETIC_BANNER)}</div>\n' if synthetic else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<title>{escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<div class="header"><a href="/index.html">{SITE_NAME}</a>
<div class="nav"><a href="/index.html">首页</a><a href="/{SECTION_DIRS["listing"]}/index.html">\
转让公告</a><a href="/{SECTION_DIRS["result"]}/index.html">转让结果公告</a></div></div>
{banner}<div class="notice">{escape(LOCAL_COPY_NOTE)}</div>
<div class="main">
<div class="breadcrumb">当前位置：{trail}</div>
{body}
</div>
<div class="footer">{SITE_NAME}（本地副本） 版权所有</div>
</body>
</html>
"""


def _section_crumbs(doc_type: DocType) -> list[tuple[str, str | None]]:
    return [
        ("首页", "/index.html"),
        ("信息披露", None),
        ("不良贷款转让", None),
        (SECTION_NAMES[doc_type], f"/{SECTION_DIRS[doc_type]}/index.html"),
    ]


def _list_item(doc: Document) -> str:
    title = escape(doc.title)
    return (
        '<li><div class="rightListContent list-item">'
        f'<span class="rightListImport unlock list-content"><a href="{escape(doc.index_href)}" '
        f'target="_blank" title="{title}">{title}</a></span>'
        f'<span class="rightListTime data-time">{doc.publication:%Y-%m-%d}</span>'
        "</div></li>"
    )


def _pager(page: int, pages: int, item_count: int) -> str:
    def link(css: str, label: str, target: int | None) -> str:
        if target is None:
            return f'<span class="{css} disabled">{label}</span>'
        return f'<a class="{css}" href="./{page_filename(target, pages)}">{label}</a>'

    return (
        f'<div class="page-box" data-page="{page}" data-total-pages="{pages}">'
        f'<span id="pageTotal">共{item_count}条</span>'
        f'<span class="page-info">第{page}/{pages}页</span>'
        + link("page-first", "首页", 1 if page > 1 else None)
        + link("page-prev", "上一页", page - 1 if page > 1 else None)
        + link("page-next", "下一页", page + 1 if page < pages else None)
        + link("page-last", "尾页", pages if page < pages else None)
        + "</div>"
    )


def index_page(
    doc_type: DocType,
    items: list[Document],
    page: int,
    pages: int,
    item_count: int,
    synthetic: bool,
) -> str:
    """One page of a section's index; `items` are that page's documents, newest first."""
    name = SECTION_NAMES[doc_type]
    sections: tuple[DocType, ...] = ("listing", "result")
    active = ' class="active"'
    menu = "".join(
        f"<li{active if t == doc_type else ''}>"
        f'<a href="/{SECTION_DIRS[t]}/index.html">{SECTION_NAMES[t]}</a></li>'
        for t in sections
    )
    body = (
        f'<div class="left-menu"><h3>不良贷款转让</h3><ul>{menu}</ul></div>\n'
        f'<div class="rightList"><h3 class="rightListTitle">{name}</h3>\n'
        '<ul class="list-box">\n'
        + "\n".join(_list_item(doc) for doc in items)
        + "\n</ul>\n"
        + _pager(page, pages, item_count)
        + "\n</div>"
    )
    return _page(f"{name}_不良贷款转让_{SITE_NAME}", _section_crumbs(doc_type), body, synthetic)


def detail_page(doc: Document) -> str:
    title = escape(doc.title)
    body = (
        '<div class="news_info_box">\n'
        f'<h2 class="news_title">{title}</h2>\n'
        f'<div class="news_info"><span class="news_time">发布时间：{doc.publication:%Y-%m-%d}'
        '</span> <span class="news_source">来源：银登中心</span></div>\n'
        f'<div class="news_content"><p>{title}，详见附件。</p></div>\n'
        '<div class="attach_main attachment"><div class="attach_title">附件：</div>'
        f'<div class="attach_file"><a href="./{escape(doc.pdf_file)}" target="_blank">'
        f"{title}.pdf</a></div></div>\n"
        "</div>"
    )
    crumbs = [*_section_crumbs(doc.doc_type), ("正文", None)]
    return _page(f"{doc.title}_{SITE_NAME}", crumbs, body, doc.synthetic)


def home_page(counts: dict[DocType, int], synthetic: bool) -> str:
    sections: tuple[DocType, ...] = ("listing", "result")
    links = "".join(
        f'<li><a href="/{SECTION_DIRS[t]}/index.html">{SECTION_NAMES[t]}</a>'
        f"（共{counts[t]}条）</li>"
        for t in sections
    )
    body = f"<h3>信息披露 - 不良贷款转让</h3>\n<ul>{links}</ul>"
    return _page(SITE_NAME, [("首页", "/index.html")], body, synthetic)
