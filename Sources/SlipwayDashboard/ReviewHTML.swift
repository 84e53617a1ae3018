import Foundation

/// The post-incident review's Markdown as HTML, for the incident page. Only what `IncidentReview.markdown` writes:
/// headings, bullet and task lists, pipe tables, paragraphs, and `**bold**`, `` `code` `` and `_emphasis_`. Every
/// piece of text is escaped before any markup is added.
enum ReviewHTML {
    static func render(_ markdown: String) -> String {
        var out: [String] = []
        var list = false, table = false
        func close() {
            if list { out.append("</ul>"); list = false }
            if table { out.append("</tbody></table>"); table = false }
        }
        for raw in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.hasPrefix("|") {
                if list { out.append("</ul>"); list = false }
                let cells = cellsOf(line)
                if cells.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 == "-" || $0 == ":" } }) { continue }  // the |---| row
                if !table {
                    out.append("<table class=\"review\"><thead><tr>" + cells.map { "<th scope=\"col\">\(inline($0))</th>" }.joined() + "</tr></thead><tbody>")
                    table = true
                    continue
                }
                out.append("<tr>" + cells.map { "<td class=\"wrap\">\(inline($0))</td>" }.joined() + "</tr>")
                continue
            }
            if line.hasPrefix("- ") {
                if table { close() }
                if !list { out.append("<ul>"); list = true }
                var item = String(line.dropFirst(2))
                var box = ""
                if item.hasPrefix("[ ] ") || item.hasPrefix("[x] ") {
                    box = "<input type=\"checkbox\" disabled\(item.hasPrefix("[x]") ? " checked" : "")> "
                    item = String(item.dropFirst(4))
                }
                out.append("<li>\(box)\(inline(item))</li>")
                continue
            }
            close()
            if line.hasPrefix("## ") {
                out.append("<h3>\(inline(String(line.dropFirst(3))))</h3>")
            } else if line.hasPrefix("# ") {
                out.append("<h2>\(inline(String(line.dropFirst(2))))</h2>")
            } else if !line.trimmingCharacters(in: .whitespaces).isEmpty {
                out.append("<p>\(inline(line))</p>")
            }
        }
        close()
        return out.joined(separator: "\n")
    }

    /// `| a | b \| c |` → ["a", "b | c"].
    static func cellsOf(_ line: String) -> [String] {
        let marker = "\u{1}"
        var body = line.replacingOccurrences(of: "\\|", with: marker).trimmingCharacters(in: .whitespaces)
        if body.hasPrefix("|") { body.removeFirst() }
        if body.hasSuffix("|") { body.removeLast() }
        return body.split(separator: "|", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: marker, with: "|")
        }
    }

    /// Escapes, then marks up code spans (left as they are inside), `**bold**` and `_emphasis_` (not `snake_case`).
    static func inline(_ text: String) -> String {
        var out = ""
        for (k, part) in text.split(separator: "`", omittingEmptySubsequences: false).enumerated() {
            let escaped = SVGChart.escape(String(part))
            out += k % 2 == 1 ? "<code>\(escaped)</code>" : replacing(replacing(escaped, #"\*\*(.+?)\*\*"#, "<strong>$1</strong>"),
                                                                       #"(?<![A-Za-z0-9])_(.+?)_(?![A-Za-z0-9])"#, "<em>$1</em>")
        }
        return out
    }

    static func replacing(_ text: String, _ pattern: String, _ template: String) -> String {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return text }
        return regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
    }
}
