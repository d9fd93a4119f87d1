"""seed_products: realistic demo products, loaded in bulk (one BulkImportProducts per batch).

Products get categories and stock at several locations: ``main``, plus ``east`` and ``west``
(created when absent) for about a third and a quarter of them.
"""

import random
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cqrs_demo.bus import bus
from products.management.bulk_import import load
from products.management.deployment_check import require_the_deployments_mode
from products.write import commands
from products.write.models import MAIN_LOCATION, Category, Location, Product

ADJECTIVES = [
    "Claw",
    "Ball-peen",
    "Cordless",
    "Heavy-duty",
    "Compact",
    "Stainless",
    "Galvanized",
    "Folding",
    "Precision",
    "Magnetic",
    "Adjustable",
    "Insulated",
    "Ergonomic",
    "Telescopic",
    "Rechargeable",
    "Industrial",
    "Carbon",
    "Brass",
    "Titanium",
    "Rubber",
]
NOUNS = [
    "hammer",
    "wrench",
    "screwdriver",
    "drill",
    "saw",
    "pliers",
    "chisel",
    "level",
    "tape",
    "clamp",
    "sander",
    "router",
    "grinder",
    "ladder",
    "toolbox",
    "flashlight",
    "socket",
    "file",
    "mallet",
    "vise",
    "rivet",
    "drillbit",
    "stapler",
    "multimeter",
]
CATEGORY_NAMES = [
    "Hand tools",
    "Power tools",
    "Fasteners",
    "Plumbing",
    "Electrical",
    "Garden",
    "Paint",
    "Safety",
    "Storage",
    "Measuring",
    "Adhesives",
    "Lighting",
    "Hardware",
    "Lumber",
    "Outdoor power",
    "Welding",
]
# The locations seeded stock goes to besides main, with how often a product has stock there.
LOCATIONS = {"east": ("East warehouse", 3), "west": ("West warehouse", 4)}
MAIN_QUANTITIES = (0, 0, 5, 10, 25, 100, 250)
OTHER_QUANTITIES = (5, 10, 25, 50)


class Command(BaseCommand):
    help = (
        "Create realistic demo products (and categories, and locations east and west) in bulk: one "
        "BulkImportProducts command (COPY and set-based statements) per batch, rows generated as they are loaded."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True, help="How many products to create.")
        parser.add_argument("--categories", type=int, default=8, help="How many categories (default 8).")
        parser.add_argument(
            "--batch-size", type=int, default=100_000, help="Products per command (transaction), default 100,000."
        )
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for repeatable data.")

    def handle(self, *args, count, categories, batch_size, seed, **options):
        require_the_deployments_mode()
        if count < 0 or categories < 1 or batch_size < 1:
            raise CommandError("--count must be >= 0, --categories and --batch-size >= 1.")
        rng = random.Random(seed)
        started = time.perf_counter()
        slugs = self._categories(categories)
        locations = self._locations()
        # SKUs continue after the highest seeded one, so seeding twice adds products.
        start = Product.objects.filter(sku__startswith="SEED-").count() + 1
        with tqdm(total=count, desc="products", unit=" products", file=sys.stderr, disable=None) as bar:
            for offset in range(0, count, batch_size):
                numbers = range(start + offset, start + min(offset + batch_size, count))
                load(self._rows(rng, numbers, slugs, locations, bar), {"description", "category"})
        elapsed = time.perf_counter() - started
        rate = count / elapsed if elapsed else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {count} products in {len(slugs)} categories, with stock at {len(locations) + 1} locations,"
                f" in {elapsed:.1f}s ({rate:.0f} products/s)."
            )
        )

    def _categories(self, wanted):
        slugs = []
        for index in range(wanted):
            base = CATEGORY_NAMES[index % len(CATEGORY_NAMES)]
            name = base if index < len(CATEGORY_NAMES) else f"{base} {index // len(CATEGORY_NAMES) + 1}"
            slug = name.lower().replace(" ", "-")
            if not Category.objects.filter(slug=slug).exists():
                bus.dispatch(commands.CreateCategory(slug=slug, name=name))
            slugs.append(slug)
        return slugs

    def _locations(self):
        """Create the seeded locations that are absent; return those that are active (main aside)."""
        for code, (name, _every) in LOCATIONS.items():
            if not Location.objects.filter(code=code).exists():
                bus.dispatch(commands.CreateLocation(code=code, name=name))
        active = set(Location.objects.filter(code__in=LOCATIONS, is_active=True).values_list("code", flat=True))
        return {code: every for code, (_name, every) in LOCATIONS.items() if code in active}

    def _rows(self, rng, numbers, slugs, locations, bar):
        """Yield the rows of BulkImportProducts for the products ``numbers``, generated as COPY reads them.

        A row per product at main (its opening stock), then one at some of the other locations.
        Picks are made from ``rng.random()`` (a third of the time ``choice`` and ``randint`` take).
        """
        random = rng.random
        pick = lambda values: values[int(random() * len(values))]  # noqa: E731
        line = 1
        for number in numbers:
            adjective, noun = pick(ADJECTIVES), pick(NOUNS)
            cents = 99 + int(random() * 99901)
            product = (
                f"SEED-{number:07d}",
                f"{adjective} {noun}",
                f"{adjective} {noun} for the workshop, model {100 + int(random() * 900)}.",
                pick(slugs),
                None,
                f"{cents // 100}.{cents % 100:02d}",
            )
            line += 1
            yield (line, *product, pick(MAIN_QUANTITIES), MAIN_LOCATION)
            for code, every in locations.items():
                if random() * every < 1:
                    line += 1
                    yield (line, *product, pick(OTHER_QUANTITIES), code)
            bar.update()
