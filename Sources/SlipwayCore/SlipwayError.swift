/// The one error type Slipway shows to users: a code that decides the exit status,
/// a message that says what to do, and the underlying cause when there is one.
public struct SlipwayError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Codable, Sendable {
        /// Bad flags, arguments or configuration (exit 2).
        case usage
        /// Refused by policy: a lock, a window, an approval (exit 3).
        case policy
        /// The operation ran and failed, e.g. a deploy that was refused by health (exit 1).
        case failed
        /// Something named does not exist (exit 1).
        case notFound = "not_found"
        /// The daemon could not be reached or answered nonsense (exit 1).
        case unavailable
        /// A bug or an unexpected I/O failure (exit 1).
        case `internal`
    }

    /// What the code alone does not tell and a caller acts on; the message is for people and may be reworded.
    public enum Reason: String, Codable, Sendable {
        /// The daemon is stopping gracefully: an operation in progress is left for the next start.
        case daemonStopping = "daemon_stopping"
    }

    public var code: Code
    public var message: String
    public var cause: String?
    public var reason: Reason?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public init(_ code: Code, _ message: String, cause: any Error) {
        self.init(code, message, cause: String(describing: cause))
    }

    public var exitCode: Int32 {
        switch code {
        case .usage: 2
        case .policy: 3
        case .failed, .notFound, .unavailable, .internal: 1
        }
    }

    public var description: String {
        if let cause { return "\(message) (\(cause))" }
        return message
    }

    /// The step in progress has finished and the daemon is stopping: the next start completes or rolls back.
    public static var daemonStopping: SlipwayError {
        var e = SlipwayError(.unavailable, "the daemon is stopping")
        e.reason = .daemonStopping
        return e
    }

    public static func usage(_ message: String) -> SlipwayError { .init(.usage, message) }
    public static func failed(_ message: String) -> SlipwayError { .init(.failed, message) }
    public static func notFound(_ message: String) -> SlipwayError { .init(.notFound, message) }
    public static func policy(_ message: String) -> SlipwayError { .init(.policy, message) }
}
