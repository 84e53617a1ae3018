import Foundation
import NIOCore
import NIOHTTP1

/// Reads an HTTP/1.1 response from bytes as they come, into response parts: the head (1xx answers and
/// hop-by-hop headers left out), the body without its framing (`Content-Length`, chunked, or up to the
/// close), and the end. A value; no I/O.
struct HTTP1ResponseReader {
    enum Body: Equatable {
        case head
        case length(Int)
        /// Chunked: the size line next, or `remaining` bytes of a chunk (then its CR LF), or the trailer lines.
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case done
    }

    var state = Body.head
    var isHEAD = false
    private var buffered = ByteBuffer()

    /// The parts `bytes` complete.
    mutating func read(_ bytes: inout ByteBuffer) -> [HTTPServerResponsePart] {
        buffered.writeBuffer(&bytes)
        var parts: [HTTPServerResponsePart] = []
        loop: while true {
            switch state {
            case .done:
                buffered.clear()
                break loop
            case .head:
                guard let (head, mode) = readHead() else { break loop }
                guard let head else { continue }  // an interim answer
                parts.append(.head(head))
                state = mode
                if mode == .done { parts.append(.end(nil)) }
            case .length(let left):
                guard buffered.readableBytes > 0 else { break loop }
                let n = min(left, buffered.readableBytes)
                parts.append(.body(.byteBuffer(buffered.readSlice(length: n)!)))
                if n == left {
                    state = .done
                    parts.append(.end(nil))
                } else {
                    state = .length(left - n)
                }
            case .untilClose:
                guard buffered.readableBytes > 0 else { break loop }
                parts.append(.body(.byteBuffer(buffered.readSlice(length: buffered.readableBytes)!)))
            case .chunkSize:
                guard let line = readLine() else { break loop }
                let size = Int(line.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces), radix: 16) ?? 0
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard buffered.readableBytes > 0 else { break loop }
                let n = min(remaining, buffered.readableBytes)
                parts.append(.body(.byteBuffer(buffered.readSlice(length: n)!)))
                state = n == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - n)
            case .chunkDataEnd:
                guard readLine() != nil else { break loop }
                state = .chunkSize
            case .trailers:
                guard let line = readLine() else { break loop }
                if line.isEmpty {
                    state = .done
                    parts.append(.end(nil))
                }
            }
        }
        if buffered.readerIndex > 4096 { buffered.discardReadBytes() }
        return parts
    }

    /// The connection closed: the end of a body that runs up to the close (nil when none is open).
    mutating func closed() -> HTTPServerResponsePart? {
        guard state == .untilClose else { return nil }
        state = .done
        return .end(nil)
    }

    private mutating func readLine() -> String? {
        let view = buffered.readableBytesView
        guard let range = view.firstRange(of: [13, 10]) else { return nil }
        let length = view.distance(from: view.startIndex, to: range.lowerBound)
        let line = buffered.readString(length: length) ?? ""
        buffered.moveReaderIndex(forwardBy: 2)
        return line
    }

    /// A complete head: nil while incomplete; `(nil, .head)` for an interim (1xx) answer, consumed.
    private mutating func readHead() -> (HTTPResponseHead?, Body)? {
        let view = buffered.readableBytesView
        guard let end = view.firstRange(of: [13, 10, 13, 10]) else { return nil }
        let text = buffered.readString(length: view.distance(from: view.startIndex, to: end.upperBound)) ?? ""
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: true).map(String.init)
        guard !lines.isEmpty else { return (nil, .head) }
        let statusLine = lines.removeFirst()
        let code = statusLine.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 502
        if code >= 100 && code < 200 { return (nil, .head) }
        var headers = HTTPHeaders()
        var length: Int?
        var chunked = false
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            let lower = name.lowercased()
            if lower == "content-length" { length = Int(value) }
            if lower == "transfer-encoding" { chunked = value.lowercased().contains("chunked") }
            if HTTP2Bridge.hopByHop(name) { continue }
            headers.add(name: name, value: value)
        }
        let head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: code), headers: headers)
        if isHEAD || code == 204 || code == 304 { return (head, .done) }
        if chunked { return (head, .chunkSize) }
        if let length { return (head, length == 0 ? .done : .length(length)) }
        return (head, .untilClose)
    }
}
