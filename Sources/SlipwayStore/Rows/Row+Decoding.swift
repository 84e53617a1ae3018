import GRDB
import SlipwayCore

extension Row {
    /// A column as `Value`; a value of another type is an error, not a crash.
    func value<Value: DatabaseValueConvertible>(_ column: Column) throws -> Value { try decode(forColumn: column) }

    /// A column holding an enum's raw value; an unknown value is an error that names the column and the value.
    func raw<T: RawRepresentable>(_ column: Column) throws -> T where T.RawValue == String {
        let text: String = try decode(forColumn: column)
        guard let value = T(rawValue: text) else { throw Self.unknown(text, column) }
        return value
    }

    /// The same for a column that may be NULL.
    func raw<T: RawRepresentable>(_ column: Column) throws -> T? where T.RawValue == String {
        guard let text: String = try decode(forColumn: column) else { return nil }
        guard let value = T(rawValue: text) else { throw Self.unknown(text, column) }
        return value
    }

    private static func unknown(_ text: String, _ column: Column) -> SlipwayError {
        SlipwayError(.internal, "the state database holds '\(text)' in \(column.name), which this slipway does not know; was it written by a newer one?")
    }
}
