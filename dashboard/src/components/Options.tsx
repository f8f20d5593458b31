/** The `<option>`s of a select: one per item, its id the value and its label the text. */
export function Options({ items }: { items: readonly { id: string; label: string }[] }) {
  return items.map((i) => (
    <option key={i.id} value={i.id}>
      {i.label}
    </option>
  ));
}
