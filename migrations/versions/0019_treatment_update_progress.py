"""A treatment update says its progress in its subject ("Treatment Progress Update - 40% Complete")
and phrases the phase, the percent and the next milestone in the patient's language: the clinic's
in-app and email treatment-update templates that are still the defaults they were installed with
become the new defaults; a template the clinic edited is left as it is.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 19:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# (channel, locale): ((old subject, old body), (new subject, new body))
CHANGES = {
    ('in_app', 'en'): (
        ('Treatment update', 'Dear {{ patient_name }}, {{ practitioner_name }} has an update on your treatment{% if therapy is defined %} ({{ therapy }}){% endif %}.{% if note is defined %} {{ note }}{% endif %}'),
        ('{% if percent is defined %}Treatment Progress Update - {{ percent }}% Complete{% else %}Treatment update{% endif %}', 'Dear {{ patient_name }}, {{ practitioner_name }} has an update on your treatment{% if therapy is defined %} ({{ therapy }}){% endif %}.{% if phase is defined %} {{ phase }}{% if percent is defined %}: {{ percent }}% complete{% endif %}.{% endif %}{% if next_milestone is defined %} Next: {{ next_milestone }}.{% endif %}{% if note is defined %} {{ note }}{% endif %}'),
    ),
    ('email', 'en'): (
        ('An update on your treatment', 'Dear {{ patient_name }},\n\n{{ practitioner_name }} has an update on your treatment{% if therapy is defined %} ({{ therapy }}){% endif %}.{% if note is defined %}\n\n{{ note }}{% endif %}\n\n{{ clinic }}'),
        ('{% if percent is defined %}Treatment Progress Update - {{ percent }}% Complete{% else %}An update on your treatment{% endif %}', 'Dear {{ patient_name }},\n\n{{ practitioner_name }} has an update on your treatment{% if therapy is defined %} ({{ therapy }}){% endif %}.{% if phase is defined %}\n\n{{ phase }}{% if percent is defined %}: {{ percent }}% complete{% endif %}.{% endif %}{% if next_milestone is defined %}\nNext: {{ next_milestone }}.{% endif %}{% if note is defined %}\n\n{{ note }}{% endif %}\n\n{{ clinic }}'),
    ),
    ('in_app', 'hi'): (
        ('उपचार अपडेट', 'प्रिय {{ patient_name }}, {{ practitioner_name }} ने आपके उपचार पर अपडेट भेजा है।{% if note is defined %} {{ note }}{% endif %}'),
        ('{% if percent is defined %}उपचार प्रगति अपडेट - {{ percent }}% पूर्ण{% else %}उपचार अपडेट{% endif %}', 'प्रिय {{ patient_name }}, {{ practitioner_name }} ने आपके उपचार पर अपडेट भेजा है{% if therapy is defined %} ({{ therapy }}){% endif %}।{% if phase is defined %} {{ phase }}{% if percent is defined %}: {{ percent }}% पूर्ण{% endif %}।{% endif %}{% if next_milestone is defined %} आगे: {{ next_milestone }}।{% endif %}{% if note is defined %} {{ note }}{% endif %}'),
    ),
    ('email', 'hi'): (
        ('आपके उपचार पर अपडेट', 'प्रिय {{ patient_name }},\n\n{{ practitioner_name }} ने आपके उपचार पर अपडेट भेजा है{% if therapy is defined %} ({{ therapy }}){% endif %}।{% if note is defined %}\n\n{{ note }}{% endif %}\n\n{{ clinic }}'),
        ('{% if percent is defined %}उपचार प्रगति अपडेट - {{ percent }}% पूर्ण{% else %}आपके उपचार पर अपडेट{% endif %}', 'प्रिय {{ patient_name }},\n\n{{ practitioner_name }} ने आपके उपचार पर अपडेट भेजा है{% if therapy is defined %} ({{ therapy }}){% endif %}।{% if phase is defined %}\n\n{{ phase }}{% if percent is defined %}: {{ percent }}% पूर्ण{% endif %}।{% endif %}{% if next_milestone is defined %}\nआगे: {{ next_milestone }}।{% endif %}{% if note is defined %}\n\n{{ note }}{% endif %}\n\n{{ clinic }}'),
    ),
}


def upgrade():
    _replace(lambda old, new: (old, new))


def downgrade():
    _replace(lambda old, new: (new, old))


def _replace(direction):
    templates = sa.table("templates", sa.column("key"), sa.column("channel"), sa.column("locale"),
                         sa.column("subject"), sa.column("body"))
    for (channel, locale), pair in CHANGES.items():
        (from_subject, from_body), (to_subject, to_body) = direction(*pair)
        op.execute(
            templates.update()
            .where(templates.c.key == "treatment_update", templates.c.channel == channel,
                   templates.c.locale == locale, templates.c.subject == from_subject, templates.c.body == from_body)
            .values(subject=to_subject, body=to_body)
        )
