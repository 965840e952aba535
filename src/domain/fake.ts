// Fake users and products: the one entry point seeders import.
export { generateUsers, REGIONS, type GenerateUsersOptions } from "./users.ts";
export { generateProducts, type GenerateProductsOptions } from "./products.ts";
