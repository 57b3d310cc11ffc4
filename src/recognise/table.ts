// Tables that kubectl (and its tabwriter) prints: each cell starts under its column's header, so cells are cut at the
// header's offsets, and a cell may hold single spaces ("2 (3h ago)", "kubelet, worker-2").

/** A table's columns: each header word, or words a single space apart ("LAST SEEN"), and where it starts. */
export interface Columns {
  names: string[];
  at: number[];
}

/** The columns of a header line: headers are 3 spaces apart at least (kubectl's padding). */
export function columnsOf(header: string): Columns {
  const found = [...header.matchAll(/\S+(?: \S+)*/g)];
  return { names: found.map((m) => m[0]), at: found.map((m) => m.index) };
}

/** The cell of column `name` in row `text`, trimmed; undefined when the table has no such column. */
export function cellOf(cols: Columns, text: string, name: string): string | undefined {
  const i = cols.names.indexOf(name);
  return i < 0 ? undefined : text.slice(cols.at[i], cols.at[i + 1]).trim();
}
