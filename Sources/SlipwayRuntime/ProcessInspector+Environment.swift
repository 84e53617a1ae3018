import Foundation

extension ProcessInspector {
    /// Processes whose environment holds every one of `variables` (from /proc/PID/environ; another user's is
    /// readable only as root): how a daemon finds what it started when it died before recording it.
    public static func processes(withEnvironment variables: [String: String]) -> [Int32] {
        let wanted = Set(variables.map { "\($0.key)=\($0.value)" })
        guard !wanted.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return nil }
            let present = Set(data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
            return wanted.isSubset(of: present) ? pid : nil
        }.sorted()
    }
}
