// Compiled by .ci/check-clients against the types openapi-typescript generates from
// docs/openapi.yaml: the request bodies a TypeScript client builds must type-check as written
// here, and the ones the API refuses for their shape must not.
import type { components, operations } from "./generated/api";

type Schemas = components["schemas"];
type Body<Operation extends keyof operations> = NonNullable<
  operations[Operation]["requestBody"]
>["content"]["application/json"];

const product = "0b7c6f0e-9f5a-4c1e-8d7a-2f0d6c9b1a11";
const other = "5e2a9d47-3c18-4b6f-a0e2-7d9c4b1f6a22";

// A stock change: exactly one of delta and quantity; reason and location may be left out.
export const sale: Body<"products_stock_change"> = { delta: -2 };
export const recount: Schemas["StockChangeRequest"] = { quantity: 40, reason: "stocktake", location: "north" };
// @ts-expect-error neither delta nor quantity
export const nothing: Body<"products_stock_change"> = { reason: "typo", location: "main" };

// A reservation: lines only; expires_in, reference and each line's location may be left out.
export const reservation: Body<"reservations_create"> = {
  lines: [{ product, quantity: 3 }, { product: other, quantity: 1, location: "north" }],
};
export const withReference: Schemas["ReservationCreateRequest"] = {
  lines: [{ product, quantity: 1 }],
  expires_in: 600,
  reference: "order-1",
};

// A batch: each line one of the two kinds.
export const batch: Body<"stock_adjustments_create"> = {
  lines: [
    { product, delta: 5 },
    { product: other, quantity: 0, location: "north" },
  ],
  reason: "delivery",
};
// @ts-expect-error a line with neither delta nor quantity
export const badBatch: Body<"stock_adjustments_create"> = { lines: [{ product }] };

// The README's example: change the stock with fetch, typed by the generated schema.
export async function changeStock(base: string, token: string, id: string, body: Schemas["StockChangeRequest"]) {
  const init = { method: "POST", body: JSON.stringify(body) };
  const headers = { Authorization: `Token ${token}`, "Content-Type": "application/json" };
  const response = await fetch(`${base}/api/products/${id}/stock/`, { ...init, headers });
  return (await response.json()) as Schemas["Product"] | Schemas["ValidationError"] | Schemas["Error"];
}

// The answers a client reads: 409 lists the short lines, 400 the messages by field.
export function shortBy(refused: Schemas["InsufficientStock"]): number[] {
  return refused.lines.map((line) => line.requested - line.available);
}
export function locationMessages(invalid: Schemas["ValidationError"]): unknown {
  return invalid["location"] ?? invalid.non_field_errors;
}
