/// Splits a configured command into argv without a shell: whitespace separates words,
/// single and double quotes group, backslash escapes, and `$NAME` / `${NAME}` expand from `variables`.
public enum CommandLineSplitter {
    public static func split(_ command: String, variables: [String: String] = [:]) throws(SlipwayError) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var chars = Array(command)
        var i = 0
        func expand(at index: inout Int) -> String {
            // chars[index] == "$"
            var j = index + 1
            var name = ""
            if j < chars.count, chars[j] == "{" {
                j += 1
                while j < chars.count, chars[j] != "}" { name.append(chars[j]); j += 1 }
                j += 1
            } else {
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" {
                    name.append(chars[j]); j += 1
                }
            }
            if name.isEmpty { index += 1; return "$" }
            index = j
            return variables[name] ?? ""
        }
        while i < chars.count {
            let c = chars[i]
            if let q = quote {
                if c == q { quote = nil; i += 1; continue }
                if c == "\\", q == "\"", i + 1 < chars.count { current.append(chars[i + 1]); i += 2; continue }
                if c == "$", q == "\"" { current += expand(at: &i); continue }
                current.append(c); i += 1; continue
            }
            switch c {
            case " ", "\t", "\n":
                if inWord { words.append(current); current = ""; inWord = false }
                i += 1
            case "'", "\"":
                quote = c; inWord = true; i += 1
            case "\\":
                if i + 1 < chars.count { current.append(chars[i + 1]); inWord = true }
                i += 2
            case "$":
                current += expand(at: &i); inWord = true
            default:
                current.append(c); inWord = true; i += 1
            }
        }
        chars.removeAll()
        if quote != nil { throw .usage("unterminated quote in command: \(command)") }
        if inWord { words.append(current) }
        if words.isEmpty { throw .usage("empty command") }
        return words
    }
}
