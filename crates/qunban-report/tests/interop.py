"""Re-reads qunban exports with independent Python libraries.

    python interop.py xlsx FILE   # openpyxl: sheets, Chinese headers, real dates
    python interop.py ics FILE    # icalendar: parses, events with UID/DTSTART
"""
import datetime
import sys

HEADERS = ["任务编号", "标题", "负责人", "状态", "进度", "优先级", "截止时间", "创建时间", "完成时间", "所属项目", "里程碑"]


def check_xlsx(path):
    import openpyxl

    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "汇总", wb.sheetnames
    assert len(wb.sheetnames) >= 2, wb.sheetnames
    ws = wb[wb.sheetnames[1]]
    head = [c.value for c in ws[1]]
    assert head == HEADERS, head
    dates = 0
    for row in ws.iter_rows(min_row=2, values_only=True):
        if row[0] is None:
            continue
        assert isinstance(row[7], datetime.datetime), ("创建时间 is not a date", row[7])
        if row[6] is not None:
            assert isinstance(row[6], datetime.datetime), ("截止时间 is not a date", row[6])
            dates += 1
    assert dates > 0
    fmt = ws.cell(row=2, column=8).number_format
    assert "yy" in fmt, fmt
    print("xlsx ok:", wb.sheetnames)


def check_ics(path):
    import icalendar

    with open(path, "rb") as f:
        data = f.read()
    cal = icalendar.Calendar.from_ical(data)
    assert cal.get("VERSION") == "2.0"
    events = list(cal.walk("VEVENT"))
    assert events, "no events"
    for ev in events:
        assert str(ev.get("UID")).startswith("task-"), ev.get("UID")
        start = ev.decoded("DTSTART")
        assert isinstance(start, datetime.datetime) and start.tzinfo is not None, start
        assert ev.get("DTSTAMP") is not None
        assert str(ev.get("SUMMARY"))
    # Line length limit (octets), CRLF endings.
    for line in data.split(b"\r\n"):
        assert len(line) <= 75, line
    print("ics ok:", len(events), "events")


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    {"xlsx": check_xlsx, "ics": check_ics}[kind](path)
