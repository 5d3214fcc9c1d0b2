/** The pages this suite holds to "every ts block is a runnable example" and "no broken links" (docs/ has others' pages too). */
export const OWN_PAGES = ['README.md', 'event-sourcing.md', 'cqrs.md', 'messaging.md', 'sagas.md', 'postgres.md', 'errors.md'];
