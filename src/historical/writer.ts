// The year's writes: orders streamed into one COPY per simulated week while the next day is being
// generated, sign-ups COPYed before the orders that name them.
import type { Sql } from "../db/client.ts";
import { copyRows } from "../db/copy.ts";
import { columnNames, ORDERS, PRODUCTS, rowValues, USERS } from "../db/tables.ts";
import type { Order, Product, User } from "../domain/types.ts";

export const SOURCE = "historical";
export const ORDER_COPY_COLUMNS: readonly string[] = [...columnNames(ORDERS), "source"];
const USER_COPY_COLUMNS: readonly string[] = [...columnNames(USERS), "source"];
const PRODUCT_COPY_COLUMNS: readonly string[] = [...columnNames(PRODUCTS), "source"];

// orderCopyLine writes the columns by hand (the generic encoder costs ~1.8 µs a row, a million rows
// a year); this refuses to load if ORDERS ever lists them differently.
const HAND_ORDER =
  "id,user_id,product_id,quantity,unit_price,shipping_cost,discount_amount,total_amount,payment_method,status,created_at,category,user_region,user_gender,user_age_band";
if (columnNames(ORDERS).join(",") !== HAND_ORDER) throw new Error("src/historical/writer.ts: ORDERS columns changed; update orderCopyLine");
const UNSAFE = /[\\\t\n\r]/;

/**
 * One order as a line of COPY text, equal to encodeRow(rowValues(ORDERS, o) + source). Ids, enums and
 * numbers never need escaping; the region comes from the database, so it is checked.
 */
export function orderCopyLine(o: Order): string {
  if (UNSAFE.test(o.user_region)) throw new Error(`region of order ${o.id} contains a control character`);
  return `${o.id}\t${o.user_id}\t${o.product_id}\t${o.quantity}\t${o.unit_price}\t${o.shipping_cost}\t${o.discount_amount}\t${o.total_amount}\t${o.payment_method}\t${o.status}\t${o.created_at.toISOString()}\t${o.category}\t${o.user_region}\t${o.user_gender}\t${o.user_age_band}\t${SOURCE}\n`;
}

export async function copyUsers(sql: Sql, users: readonly User[]): Promise<number> {
  if (users.length === 0) return 0;
  return copyRows(
    sql,
    USERS.name,
    USER_COPY_COLUMNS,
    users.map((u) => [...rowValues(USERS, u), SOURCE]),
  );
}

export async function copyProducts(sql: Sql, products: readonly Product[]): Promise<number> {
  if (products.length === 0) return 0;
  return copyRows(
    sql,
    PRODUCTS.name,
    PRODUCT_COPY_COLUMNS,
    products.map((p) => [...rowValues(PRODUCTS, p), SOURCE]),
  );
}

type Writable = Awaited<ReturnType<ReturnType<Sql["unsafe"]>["writable"]>>;

/** A COPY … FROM STDIN kept open while text is fed to it, with back-pressure. */
export class CopyStream {
  private failure: Error | null = null;

  private constructor(private readonly stream: Writable) {
    stream.on("error", (err: Error) => {
      this.failure ??= err;
    });
  }

  static async open(sql: Sql, table: string, columns: readonly string[]): Promise<CopyStream> {
    return new CopyStream(await sql.unsafe(`copy ${table} (${columns.join(", ")}) from stdin`).writable());
  }

  /**
   * Hands text to the socket; waits only when PostgreSQL is behind, otherwise yields one turn of the
   * event loop so the socket drains while the next day is generated.
   */
  async write(text: string): Promise<void> {
    this.check();
    if (text.length === 0) return;
    if (this.stream.write(text)) await new Promise<void>((resolve) => setImmediate(resolve));
    else await this.waitFor("drain");
    this.check();
  }

  /** Ends the COPY; resolves once PostgreSQL has committed it. */
  async end(): Promise<void> {
    this.check();
    await new Promise<void>((resolve, reject) => {
      this.stream.once("error", reject);
      this.stream.end(() => resolve());
    });
    this.check();
  }

  /** Gives the COPY up (PostgreSQL rolls it back), freeing the connection for other statements. */
  abort(reason: unknown): void {
    this.stream.destroy(reason instanceof Error ? reason : new Error(String(reason)));
  }

  private waitFor(event: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        this.stream.off(event, onEvent);
        reject(err);
      };
      const onEvent = () => {
        this.stream.off("error", onError);
        resolve();
      };
      this.stream.once(event, onEvent);
      this.stream.once("error", onError);
    });
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }
}
