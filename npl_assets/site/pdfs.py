"""Listing (转让公告) and result (转让结果公告) PDFs laid out like the real ones.

Written from the two real samples: the same labels, value formats, label wraps and sections.
Like the real announcements, most PDFs embed a subset of their CJK font (Kurinto Sans SC, a
TrueType font from the weblate-fonts package); a stable quarter of them (`embeds_font`) instead
use reportlab's built-in CID font STSong-Light, which is not embedded, as some real PDFs do, so
that readers of both kinds stay tested. Rendering uses `invariant=1`, so a rebuild gives
byte-identical files. Contact details are visibly fictitious."""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from npl_assets.site import formats as fmt
from npl_assets.site.layout import TITLE_SUFFIXES
from npl_assets.site.source import seller_name

# Not embedded: the reader substitutes a font of its own (reportlab's built-in CID font).
FONT = "STSong-Light"
# Embedded as subsets (FontFile2), as in the real PDFs. Its file comes from a pinned dependency,
# so rebuilds stay byte-identical.
EMBEDDED_FONT = "KurintoSansSC"
EMBEDDED_FONT_PACKAGE = "weblate_fonts"
EMBEDDED_FONT_FILE = "static/weblate_fonts/kurinto/ttf/KurintoSansSC-Rg.ttf"
# One document in NON_EMBEDDED_SHARE keeps the non-embedded font.
NON_EMBEDDED_SHARE = 4
SYNTHETIC_MARK = "（模拟数据，仅供测试）"
CONTACT_LINES = (
    "联系人：张三（虚构）",
    "联系电话：010-00000000",
    "电子邮件：contact@example.invalid",
)

DECLARATION = (
    "本机构保证公告内容不存在任何虚假记载、误导性陈述或者重大遗漏，"
    "并承诺对其真实性、准确性、完整性和有效性承担完全的法律责任。"
)
BASIS = (
    "本机构依据《银行业信贷资产登记流转中心不良贷款转让业务规则》和《银行业信贷资产登记流转"
    "中心不良贷款转让业务信息披露细则》的要求，{what}不良贷款转让业务，现予以公告。"
)
BASIS_LISTING = BASIS.format(what="拟通过银登中心开展")
BASIS_RESULT = BASIS.format(what="已通过银登中心完成")

NOTE_1 = (
    "注1：若无特殊说明，本表格中“加权平均逾期天数”、“借款人加权平均年龄”、“借款人加权平均"
    "授信额度（元）”按拟转让贷款本息总额加权平均计算。"
)
NOTE_2 = "注2：逾期起始点确定标准：贷款到期后未足额偿还本金和利息即认定为开始逾期"

Formatter = Callable[[str], str]

# Section 一's key/value table, two pairs a row as in the real table. "\n" marks where the real
# PDF wraps a long label inside its cell.
BASIC_INFO: tuple[tuple[tuple[str, str, Formatter], tuple[str, str, Formatter]], ...] = (
    (
        ("交易基准日", "交易基准日", fmt.base_date),
        ("未偿本金总额（元）", "未偿本金总额（元）", fmt.money),
    ),
    (
        ("资产笔数（笔）", "资产笔数（笔）", fmt.count),
        ("未偿利息总额（元）", "未偿利息总额（元）", fmt.money),
    ),
    (
        ("借款人户数（户）", "借款人户数（户）", fmt.count),
        ("未偿本息总额（元）", "未偿本息总额（元）", fmt.money),
    ),
    (
        ("加权平均逾期天数", "加权平均逾期天数", fmt.plain_number),
        ("其他费用（元）", "其他费用（元）", fmt.money),
    ),
    (
        ("单一借款人最高未偿\n本息余额（元）", "单一借款人最高未偿本息余额（元）", fmt.money),
        ("借款人平均未偿本息余额\n（元）", "借款人平均未偿本息余额（元）", fmt.money),
    ),
    (
        ("借款人加权平均年龄", "借款人加权平均年龄", fmt.plain_number),
        ("借款人加权平均授信额度\n（元）", "借款人加权平均授信额度（元）", fmt.money),
    ),
)

# Count-list rows: label -> the per-category count columns, in the order the real PDFs list them.
COUNT_LISTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("五级分类情况", ("损失", "可疑", "次级")),
    ("核销情况", ("已核销",)),
    ("担保情况概述", ("信用", "保证")),
    (
        "诉讼情况概述",
        (
            "未诉",
            "诉讼中",
            "已诉讼",
            "仲裁中",
            "已仲裁",
            "已判未执",
            "执行中",
            "撤回执行",
            "执行中止",
            "终结执行",
            "终本执行",
            "已调解",
            "其他",
        ),
    ),
)

REQUIREMENTS = (
    (
        "四、交易对象要求",
        (
            "1.交易对象资格和条件：1）需符合《中国银保监会办公厅关于开展不良贷款转让试点工作的"
            "通知》（银保监办便函〔2021〕26号）文件、《中国银保监会办公厅关于开展第二批不良贷款"
            "转让试点工作的通知》（银保监办便函〔2022〕1191号）文件及《银行业信贷资产登记流转中心"
            "不良贷款转让业务规则》（银登字〔2023〕1号）文件要求的受让方范围。",
            "2）受让方必须在银行业信贷资产登记流转中心平台完成开户手续。",
            "3）受让方同意出让方交易条件与其他要求。",
            "2.意向受让方申请渠道：通过银行业信贷资产登记流转中心业务系统进行申请。",
            "3.意向受让方申请材料：1）公司营业执照复印件（加盖公章）。",
            "2）金融资产管理公司需提供监管机构核发的金融许可证复印件（加盖公章）；地方资产管理"
            "公司需提供由省、自治区、直辖市人民政府出具的核准设立或授权文件复印件（加盖公章），"
            "以及省级地方金融监督管理局出具的同意试点文件复印件（加盖公章）。",
            "3）意向受让方签订的《保密承诺函》及《授权委托书》（加盖公章）。",
            "4）相关材料模板线下提供。",
        ),
    ),
    (
        "五、交易条件",
        (
            "1.通过项目挂牌只产生一个合格意向受让方时，接受协议转让。",
            "2.是否使用标准协议文本",
            "不使用不良贷款转让业务标准协议文本。",
            "3.是否通过银登中心办理资金业务",
            "不通过银登中心办理资金业务。",
            "4.保证金要求：",
            "本次竞价不收取保证金。",
            "5.转让协议签署要求：",
            "接受项目挂牌信息中《资产转让合同》文本内容，同意按此文本签署《资产转让合同》，"
            "《资产转让合同》最终以出让方的审批为准；在公开竞价确认书发出后15个工作日内，"
            "受让方与我行完成《资产转让合同》的签署；协议通过线下方式签署。",
            "6.资金支付要求：",
            "《资产转让合同》生效后20个工作日内，受让方应该通过在我行开立的账户一次性将交易价款"
            "划至我行指定账户。出让方指定收取竞价款项的账户信息：",
            "户名：{seller}",
            "开户银行：示例银行（虚构）",
            "账号：00000000000000000。",
            "7.档案移交要求：",
            "《资产转让合同》生效后，按照《资产转让合同》约定的方式完成资产档案资料的移交和接收"
            "工作，原则上不晚于合同签署后20个工作日。",
        ),
    ),
    (
        "六、其他要求",
        (
            "本资产挂牌后，一经报名视为意向受让方同意以下内容:",
            "1、具备监管机构、银登中心对受让方资质的有关规定，因意向受让方违反该规定所造成的一切"
            "损失，由意向受让方承担。",
            "2、已按我行规定对拟转让资产包不良资产进行了尽职调查，依据资产现状进行了价值评估，"
            "愿意承担后续的处置风险，受让资产后不会因任何原因向出让方进行追索。",
            "3、出让方已对拟转让资产的风险进行了充分的揭示。意向受让方已被告知、仔细阅读并充分"
            "理解《资产转让合同》及其附件、以及资产文件和供投资者审阅文档所揭示的资产风险。"
            "除《资产转让合同》另有约定外，意向受让方自愿承担上述资产风险，并自愿承担上述资产"
            "风险造成的一切损失以及不能获得相应预期利益的后果。",
            "4、同意按照出让方要求参与竞价，竞价期间不得相互串通报价，不得排挤其他资产管理公司的"
            "公平竞争、损害转让方或其他合格受让方的合法权益，不得与出让方个人串通、损害国家利益、"
            "转让方利益或者他人的合法权益，不得采取弄虚作假等不正当手段，否则其报价作废，"
            "取消其参与竞价的资格。",
            "5、竞价结束当天，竞价成交的受让方应及时通过银登中心业务系统对成交结果进行确认。",
            "6、已被告知并完全接受，受让不良资产后，只能采取正当、合法的手段进行处置，承诺不得"
            "再次将该资产包对外转让，严禁暴力催收不良贷款，严禁委托有暴力催收、涉黑犯罪等违法"
            "行为记录的机构开展清收工作。",
            "7、已被告知并完全接受，受让不良资产后，应按照《资产转让合同》的规定采取必要措施，"
            "保护债务人个人信息和出让方保密信息，防止发生相关信息泄露或非法处理个人信息的情形。",
        ),
    ),
)


@dataclass(frozen=True)
class ListingContent:
    """Everything a listing PDF prints, already formatted."""

    title: str
    basic_info: list[tuple[str, str, str, str]]
    count_rows: list[tuple[str, str]]
    remarks: str | None
    registration_deadline: str
    bid_day: str
    transfer_method: str
    bidding_method: str
    auction_rows: list[tuple[str, str]]
    seller: str
    publication: str
    synthetic: bool


@dataclass(frozen=True)
class ResultContent:
    title: str
    rows: list[tuple[str, str]]
    seller: str
    publication: str
    synthetic: bool


def _column(row: dict[str, str], column: str) -> str:
    if column not in row:
        raise KeyError(f"dataset row {row.get('序号', '?')} has no column {column!r}")
    return row[column]


def _formatted(row: dict[str, str], column: str, formatter: Formatter) -> str:
    try:
        return formatter(_column(row, column))
    except ValueError as exc:
        raise ValueError(f"row {row.get('序号', '?')} {column}: {exc}") from None


def basic_info_rows(row: dict[str, str]) -> list[tuple[str, str, str, str]]:
    return [
        (
            left_label,
            _formatted(row, left_col, left_fmt),
            right_label,
            _formatted(row, right_col, right_fmt),
        )
        for (left_label, left_col, left_fmt), (right_label, right_col, right_fmt) in BASIC_INFO
    ]


def count_rows(row: dict[str, str]) -> list[tuple[str, str]]:
    """The four count-list rows; categories without a count are left out, an all-empty list
    gives a blank cell."""
    out = []
    for label, categories in COUNT_LISTS:
        items: list[tuple[str, int]] = []
        for name in categories:
            try:
                items += fmt.count_items(name, _column(row, f"{name}（笔）"))
            except ValueError as exc:
                raise ValueError(f"row {row.get('序号', '?')}: {exc}") from None
        out.append((label, fmt.count_list(items)))
    return out


def auction_rows(row: dict[str, str]) -> list[tuple[str, str]]:
    """The 转让方式 table below its 竞价方式 header row; 起始价 only where one is disclosed."""
    rows = [
        ("自由竞价开始时间", _formatted(row, "自由竞价开始时间", fmt.auction_minute)),
        ("自由竞价结束时间", _formatted(row, "自由竞价结束时间", fmt.auction_minute)),
        ("延时周期（分钟）", _formatted(row, "延时周期（分钟）", fmt.count)),
    ]
    if _column(row, "起始价（元）").strip():
        rows.append(("起始价（元）", _formatted(row, "起始价（元）", fmt.money)))
    rows.append(("加价幅度（元）", _formatted(row, "加价幅度（元）", fmt.money)))
    return rows


def listing_content(row: dict[str, str], publication: date, synthetic: bool) -> ListingContent:
    remarks = _column(row, "备注").strip()
    return ListingContent(
        title=_column(row, "项目名称") + TITLE_SUFFIXES["listing"],
        basic_info=basic_info_rows(row),
        count_rows=count_rows(row),
        remarks=remarks or None,
        registration_deadline=_formatted(row, "竞价报名截止时间", fmt.cn_minute),
        bid_day=fmt.cn_date(_formatted_day(row, "竞价日")),
        transfer_method=_column(row, "转让方式").strip(),
        bidding_method=_column(row, "竞价方式").strip(),
        auction_rows=auction_rows(row),
        seller=seller_name(row),
        publication=fmt.cn_date(publication),
        synthetic=synthetic,
    )


def result_content(row: dict[str, str], publication: date, synthetic: bool) -> ResultContent:
    agreed = _formatted_day(row, "转让协议签署日期")
    return ResultContent(
        title=_column(row, "项目名称") + TITLE_SUFFIXES["result"],
        rows=[
            ("项目名称", _column(row, "项目名称").strip()),
            ("项目编号", _column(row, "项目编号").strip()),
            ("出让方全称", seller_name(row)),
            ("受让方全称", _column(row, "受让方全称").strip()),
            ("转让协议签署日期", fmt.cn_date(agreed)),
        ],
        seller=seller_name(row),
        publication=fmt.cn_date(publication),
        synthetic=synthetic,
    )


def _formatted_day(row: dict[str, str], column: str) -> date:
    try:
        return fmt.parse_day(_column(row, column))
    except ValueError as exc:
        raise ValueError(f"row {row.get('序号', '?')} {column}: {exc}") from None


# --- rendering -------------------------------------------------------------------------------


def embeds_font(doc_type: str, row: dict[str, str]) -> bool:
    """Whether this document embeds its font: a stable hash of the document's identity, so the
    same documents (about three in four) embed it on every build and machine."""
    identity = f"{doc_type}\0{row.get('序号', '')}\0{_column(row, '项目名称')}"
    digest = hashlib.sha256(identity.encode("utf-8")).digest()
    return digest[0] % NON_EMBEDDED_SHARE != 0


def embedded_font_file() -> str:
    path = importlib.resources.files(EMBEDDED_FONT_PACKAGE) / EMBEDDED_FONT_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"the site's embedded font is missing ({path}); install the project's dependencies"
        )
    return str(path)


@functools.cache
def _register(font: str) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    if font == FONT:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    elif font == EMBEDDED_FONT:
        pdfmetrics.registerFont(TTFont(EMBEDDED_FONT, embedded_font_file()))
    else:
        raise ValueError(f"unknown font {font!r}")


@functools.cache
def _styles(font: str) -> dict:
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    _register(font)
    body = ParagraphStyle("body", fontName=font, fontSize=12, leading=21, wordWrap="CJK")
    return {
        "title": ParagraphStyle(
            "title", parent=body, fontSize=19, leading=28, alignment=TA_CENTER, spaceAfter=14
        ),
        "mark": ParagraphStyle("mark", parent=body, alignment=TA_CENTER, spaceAfter=6),
        "body": ParagraphStyle("indented", parent=body, firstLineIndent=24),
        "line": ParagraphStyle("line", parent=body, leftIndent=24, spaceBefore=2),
        "heading": ParagraphStyle(
            "heading", parent=body, leftIndent=24, spaceBefore=12, spaceAfter=2
        ),
        "cell": ParagraphStyle("cell", parent=body, leading=15),
        "note": ParagraphStyle("note", parent=body, fontSize=10.5, leading=16, firstLineIndent=21),
        "right": ParagraphStyle("right", parent=body, alignment=TA_RIGHT),
    }


def _p(text: str, style: str, font: str):
    from reportlab.platypus import Paragraph

    return Paragraph(escape(text).replace("\n", "<br/>"), _styles(font)[style])


def _grid(rows: list[list], widths: list[float], extra: list | None = None):
    from reportlab.platypus import Table, TableStyle

    table = Table(rows, colWidths=widths, hAlign="CENTER")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, "black"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                *(extra or []),
            ]
        )
    )
    return table


# A table cell's default left and right padding (reportlab's TableStyle), points.
_CELL_PADDING = 6
_MIN_VALUE_SIZE = 8.0


@functools.cache
def _value_style(font: str, size: float):
    from reportlab.lib.styles import ParagraphStyle

    return ParagraphStyle(f"value-{size}", parent=_styles(font)["cell"], fontSize=size)


def _value(text: str, column_width: float, font: str):
    """A value cell that shrinks its type (in half points) rather than wrap a number: an amount
    broken over two lines is no longer one number. Digits are wider in the embedded font."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Paragraph

    style = _styles(font)["cell"]
    room = column_width - 2 * _CELL_PADDING
    size = style.fontSize
    while size > _MIN_VALUE_SIZE and stringWidth(text, font, size) > room:
        size -= 0.5
    if size != style.fontSize:
        style = _value_style(font, size)
    return Paragraph(escape(text), style)


def _head(title: str, basis: str, synthetic: bool, font: str) -> list:
    from reportlab.platypus import Spacer

    story = [_p(title, "title", font)]
    if synthetic:
        story.append(_p(SYNTHETIC_MARK, "mark", font))
    story += [
        _grid([[_p(DECLARATION, "body", font)]], [485]),
        Spacer(1, 8),
        _p(basis, "body", font),
    ]
    return story


def _footer(seller: str, publication: str, font: str) -> list:
    from reportlab.platypus import Spacer

    return [
        Spacer(1, 14),
        _p("特此公告。", "line", font),
        Spacer(1, 14),
        *(_p(line, "line", font) for line in CONTACT_LINES),
        Spacer(1, 18),
        _p(seller, "right", font),
        _p(publication, "right", font),
    ]


def _build(story: list, title: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=55,
        rightMargin=55,
        topMargin=42,
        bottomMargin=48,
        title=title,
        author="",
        subject="",
        creator="npl_assets bundled site",
        invariant=1,
    )
    doc.build(story)
    return buffer.getvalue()


def render_listing(content: ListingContent, font: str = EMBEDDED_FONT) -> bytes:
    from reportlab.platypus import Spacer

    def p(text: str, style: str):
        return _p(text, style, font)

    story = _head(content.title, BASIS_LISTING, content.synthetic, font)
    story.append(p("一、不良贷款基本信息", "heading"))
    widths = [122, 105, 150, 108]
    rows: list[list] = [
        [p(a, "cell"), _value(b, widths[1], font), p(c, "cell"), _value(d, widths[3], font)]
        for a, b, c, d in content.basic_info
    ]
    # Values sit a little above the middle of two-line rows, as in the real table; text
    # extraction then keeps a value on the line of the neighbouring label's first line.
    styles: list = [
        ("TOPPADDING", (1, 0), (1, len(rows) - 1), 1),
        ("BOTTOMPADDING", (1, 0), (1, len(rows) - 1), 9),
        ("TOPPADDING", (3, 0), (3, len(rows) - 1), 1),
        ("BOTTOMPADDING", (3, 0), (3, len(rows) - 1), 9),
    ]
    count_items = list(content.count_rows)
    if content.remarks is not None:
        count_items.append(("备注", content.remarks))
    for label, value in count_items:
        styles.append(("SPAN", (1, len(rows)), (3, len(rows))))
        rows.append([p(label, "cell"), p(value, "cell"), "", ""])
    story += [
        _grid(rows, widths, styles),
        Spacer(1, 3),
        p(NOTE_1, "note"),
        p(NOTE_2, "note"),
        p("二、时间安排", "heading"),
        p(f"竞价报名截止时间：{content.registration_deadline}", "line"),
        p(f"竞价日：{content.bid_day}", "line"),
        p("三、转让方式", "heading"),
        p(f"转让方式：{content.transfer_method}", "line"),
    ]
    auction: list[list] = [[p(f"竞价方式：{content.bidding_method}", "cell"), ""]]
    auction += [[p(label, "cell"), p(value, "cell")] for label, value in content.auction_rows]
    story.append(_grid(auction, [242, 243], [("SPAN", (0, 0), (1, 0))]))
    seller = content.seller
    for heading, paragraphs in REQUIREMENTS:
        story.append(p(heading, "heading"))
        story += [p(text.replace("{seller}", seller), "body") for text in paragraphs]
    story += _footer(seller, content.publication, font)
    return _build(story, content.title)


def render_result(content: ResultContent, font: str = EMBEDDED_FONT) -> bytes:
    from reportlab.platypus import Spacer

    story = _head(content.title, BASIS_RESULT, content.synthetic, font)
    story += [
        Spacer(1, 10),
        _grid([[_p(k, "cell", font), _p(v, "cell", font)] for k, v in content.rows], [165, 320]),
    ]
    story += _footer(content.seller, content.publication, font)
    return _build(story, content.title)


def render_document(
    doc_type: str, row: dict[str, str], publication: date, synthetic: bool
) -> bytes:
    font = EMBEDDED_FONT if embeds_font(doc_type, row) else FONT
    if doc_type == "listing":
        return render_listing(listing_content(row, publication, synthetic), font)
    if doc_type == "result":
        return render_result(result_content(row, publication, synthetic), font)
    raise ValueError(f"unknown document type {doc_type!r}")
