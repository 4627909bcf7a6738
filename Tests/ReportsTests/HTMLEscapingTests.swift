import Foundation
@testable import Reports
import TestSupport
import XCTest

/// Names in a results file come from configs and the kernel; none may become markup or script in
/// the HTML reports.
final class HTMLEscapingTests: XCTestCase {
    static let hostile = [
        "<script>alert(1)</script>",
        // An element that would run (and fetch) if it were markup; a `</script` before it would hide it.
        "<img src=x onerror=\"fetch('http://127.0.0.1:9/')\"> </script>",
        "Bob's \"quoted\" & <b>bold</b>",
    ]

    func hostileReports() throws -> [URL] {
        let results = try ReportFixture.results(
            architectures: ["mono<script>alert(1)</script>", "micro\"'&"], benchmark: Self.hostile[1],
            endpoint: Self.hostile[0], label: Self.hostile[2], comm: "</script><b>")
        let sections = [RenderedSection(title: Self.hostile[0], header: [Self.hostile[1], "&"],
                                        rows: [[Self.hostile[2], "</script>"]]),
                        RenderedSection(title: "broken", header: [], rows: [], error: Self.hostile[1])]
        return try ReportFixture.write(results, sections: sections, into: try temporaryDirectory("ab-escaping"))
    }

    func testNoNameAppearsRawInEitherReport() throws {
        for file in try hostileReports() {
            let html = try String(contentsOf: file, encoding: .utf8)
            let name = file.lastPathComponent
            // The page's own scripts: the error trap, the data block, Chart.js and the page script.
            XCTAssertEqual(html.components(separatedBy: "<script").count - 1, 4, name)
            XCTAssertEqual(html.components(separatedBy: "</script").count - 1, 4, name)

            let data = try XCTUnwrap(html.range(of: "<script type=\"application/json\" id=\"data\">"), name)
            let end = try XCTUnwrap(html.range(of: "</script>", range: data.upperBound..<html.endIndex), name)
            let block = String(html[data.upperBound..<end.lowerBound])
            // Quotes are harmless inside JSON strings; outside the data block nothing may be raw.
            let markup = html.replacingOccurrences(of: block, with: "")
            for raw in ["<script>alert(1)", "<img src=x", "<b>", "\"quoted\"", "Bob's", "micro\"", "& <b"] {
                XCTAssertFalse(markup.contains(raw), "\(name) has \(raw) unescaped")
            }
            XCTAssertFalse(block.contains("<"), "\(name): the data block has a raw <")
            XCTAssertFalse(block.contains(">"), "\(name): the data block has a raw >")
            XCTAssertTrue(block.contains("\\u003cscript\\u003ealert(1)"), "\(name): the names are in the data, escaped")
            // The escaped block is still JSON, and the names come back whole.
            let json = try JSONSerialization.jsonObject(with: Data(block.utf8))
            let text = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
            XCTAssertTrue(text.contains("mono<script>alert(1)<\\/script>") || text.contains("mono<script>alert(1)</script>"), name)
        }
        let dashboard = try String(contentsOf: try hostileReports()[0], encoding: .utf8)
        XCTAssertTrue(dashboard.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the endpoint and section are shown, escaped")
        XCTAssertTrue(dashboard.contains("Bob&apos;s &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;"))
    }

    func testHostileNamesRunNothingInTheBrowser() throws {
        let files = try hostileReports()
        let check = try ReportFixture.browserCheck(files)
        XCTAssertEqual(check.status, 0, check.output)
    }

    func testTheEscapersCoverEverySpecialCharacter() throws {
        XCTAssertEqual(HTML.text("<a href='x'>\"&\"</a>"), "&lt;a href=&apos;x&apos;&gt;&quot;&amp;&quot;&lt;/a&gt;")
        XCTAssertEqual(try HTML.scriptJSON(["</script>&\u{2028}"]), "[\"\\u003c\\/script\\u003e\\u0026\\u2028\"]")
    }
}
